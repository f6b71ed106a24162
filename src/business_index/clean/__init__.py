"""Cleaning: comparable forms of postcodes, business names and addresses.

Every function here is pure and works on one value, so the same rules serve the linker, search in
the API and the tests. Nothing is deleted from the records themselves: cleaning makes keys.
"""

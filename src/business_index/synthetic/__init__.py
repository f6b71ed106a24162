"""A synthetic borough that looks and misbehaves like a real one, with the truth known.

No real LLPG is open data, so tests, evaluations and benchmarks run on boroughs made here: an LLPG
in DTF 7.3 and AddressBase Premium layouts (full supply plus a change-only update), a council NDR
export, the VOA list entries and a Civica-style licensing export, all deterministic per seed, with
ground truth (true UPRN and true business of every record) kept in a separate folder.
"""

from business_index.synthetic.generate import GenerationReport, generate_borough

__all__ = ["GenerationReport", "generate_borough"]

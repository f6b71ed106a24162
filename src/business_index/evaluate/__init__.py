"""Scoring a build: against a synthetic borough's truth, or against hand-made labels of real data."""

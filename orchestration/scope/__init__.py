"""Incremental refresh: which raw files changed, and which months of the marts they touch."""

"""Deterministic, seeded demo data in the raw ERP data contract (see ``generate``)."""

from orchestration.demo_data.generate import generate

__all__ = ["generate"]

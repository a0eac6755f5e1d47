"""Import every model module so the metadata knows all tables (Alembic, tests)."""

from . import deadline_models, evidence_models, models  # noqa: F401

__all__ = ["deadline_models", "models"]

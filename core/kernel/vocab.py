"""The fixed vocabularies of the regulation: kinds, routes, stages, roles, datums."""

from __future__ import annotations

# A2.1: the six kinds of enforcement act.
KINDS = ("licensing", "penalty", "coercion", "levy", "fee", "inspection")

# How a case starts (A9–A12).
ROUTES = ("application", "ex_officio", "complaint", "inspection")

# A3.1: the five stages of the full process, then closed.
STAGES = ("initiation", "investigation", "decision", "service", "archiving", "closed")

# A8.1: who does what.
ROLES = ("officer", "supervisor", "legal_reviewer", "head", "custodian", "admin", "auditor",
         "calendar_admin")

DATUMS = ("wgs84", "gcj02", "bd09")
PARTY_KINDS = ("person", "organisation")


def stage_index(stage: str) -> int:
    """Position of a stage in the A3.1 order."""
    return STAGES.index(stage)

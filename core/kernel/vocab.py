"""The fixed vocabularies of the regulation: kinds, routes, stages, roles, datums."""

from __future__ import annotations

# A2.1: the six kinds of enforcement act.
KINDS = ("licensing", "penalty", "coercion", "levy", "fee", "inspection")
KIND_ZH = {"licensing": "行政许可", "penalty": "行政处罚", "coercion": "行政强制",
           "levy": "行政征收", "fee": "行政收费", "inspection": "行政检查"}

# How a case starts (A9–A12).
ROUTES = ("application", "ex_officio", "complaint", "inspection")
ROUTE_ZH = {"application": "依申请", "ex_officio": "依职权", "complaint": "投诉举报",
            "inspection": "检查"}

# A3.1: the five stages of the full process, then closed.
STAGES = ("initiation", "investigation", "decision", "service", "archiving", "closed")
STAGE_ZH = {"initiation": "程序启动", "investigation": "调查取证", "decision": "审查决定",
            "service": "送达执行", "archiving": "归档管理", "closed": "已结案"}

# A8.1: who does what.
ROLES = ("officer", "supervisor", "legal_reviewer", "head", "custodian", "admin", "auditor")

DATUMS = ("wgs84", "gcj02", "bd09")
PARTY_KINDS = ("person", "organisation")


def stage_index(stage: str) -> int:
    """Position of a stage in the A3.1 order."""
    return STAGES.index(stage)

"""The record-type catalogue, as data."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from core.rules.catalogue import CATALOGUE
from core.rules.deadline_rules import rule_table
from core.rules.legal_rules import rule_list

bp = Blueprint("catalogue", __name__, url_prefix="/api/v1")


@bp.get("/record-types")
def record_types():
    """Every record type with its fields, rules, signers and AV requirement."""
    return jsonify({"record_types": [t.to_json() for t in CATALOGUE]})


@bp.get("/rules")
def rules():
    """Every A- and N-rule of RULES.md with its figure, source, effective dates and ⚠."""
    settings = current_app.extensions["quancheng"].settings
    return jsonify({"rules": rule_list(rule_table(settings), settings)})

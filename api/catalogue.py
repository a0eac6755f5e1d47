"""The record-type catalogue, as data."""

from __future__ import annotations

from flask import Blueprint, jsonify

from core.rules.catalogue import CATALOGUE

bp = Blueprint("catalogue", __name__, url_prefix="/api/v1")


@bp.get("/record-types")
def record_types():
    """Every record type with its fields, rules, signers and AV requirement."""
    return jsonify({"record_types": [t.to_json() for t in CATALOGUE]})

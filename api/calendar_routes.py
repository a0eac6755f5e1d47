"""The working-day calendar."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request

from core.kernel import fields
from core.kernel.errors import Invalid

from .auth import container

bp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar")


@bp.get("/working-days")
def working_days():
    """The Nth working day after a date, with its data source and any warning."""
    from core.rules.calendar_store import load_calendar

    try:
        start = date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        raise Invalid("from must be a date YYYY-MM-DD") from None
    try:
        add = int(request.args.get("add", ""))
    except ValueError:
        raise Invalid("add must be a whole number") from None
    if not 0 <= add <= 3660:
        raise Invalid("add must be between 0 and 3660")
    if not 1949 <= start.year <= 2200:  # a legal period, not the end of the calendar (finding 9)
        raise fields.bad("from", "out_of_range", low="1949-01-01", high="2200-12-31")
    with container().uow() as uow:
        cal = load_calendar(uow.session)
    answer = cal.add_working_days(start, add)
    return jsonify({"from": start.isoformat(), "add": add, "date": answer.date.isoformat(),
                    "source": answer.source, "warnings": list(answer.warnings)})

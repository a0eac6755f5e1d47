"""The complainant's status page, ``/c/<tracking number>`` (A11.1, N21): no account, the code
typed into a form (never in the URL), rate-limited, in plain words; it works without
JavaScript. What it shows is core.complaints.tickets.complaint_status, nothing else."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from core.complaints import tickets
from core.kernel.clock import parse_aware
from core.kernel.errors import NotFound, RateLimited

from ..auth import container, remote
from . import bp, i18n
from .web_auth import check_anonymous_form, page_op


def _local(value: object, tz) -> str:
    """An ISO time as legal-time text (YYYY-MM-DD HH:MM), or ''."""
    try:
        return parse_aware(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def _shown(status: dict) -> dict:
    """The status with its times in legal time, as the page prints them."""
    tz = container().settings.legal_tz
    decision = status["decision"]
    return {**status, "received_at_local": _local(status["received_at"], tz),
            "decision": None if decision is None else {
                **decision, "decided_at_local": _local(decision.get("decided_at"), tz)},
            "notices": [{**n, "at_local": _local(n["at"], tz),
                         "sent_at_local": _local(n.get("sent_at"), tz)}
                        for n in status["notices"]]}


@bp.get("/c")
def complaint_find():
    """The lookup form without a number (a complainant who typed the address by hand)."""
    return render_template("complaint.html", tracking_no="", status=None)


@bp.post("/c")
def complaint_find_post():
    """The form without a number: look it up as if posted to /c/<number>."""
    check_anonymous_form()
    return _lookup(request.form.get("tracking_no", ""))


@bp.get("/c/<tracking_no>")
def complaint(tracking_no: str):
    """The lookup form for one tracking number (the code is typed, never in the URL)."""
    return render_template("complaint.html", tracking_no=tracking_no[:32], status=None)


@bp.post("/c/<tracking_no>")
def complaint_post(tracking_no: str):
    """The status for the number and the typed code; a wrong pair says only that."""
    check_anonymous_form()
    return _lookup(request.form.get("tracking_no") or tracking_no)


def _lookup(tracking_no: str):
    tracking_no = tracking_no.strip().upper()[:32]
    if not tracking_no:
        return redirect(url_for("pages.complaint_find"))
    try:
        status = tickets.checked_status(container(), tracking_no, request.form.get("code", ""),
                                        remote=remote())
    except NotFound:
        return render_template("complaint.html", tracking_no=tracking_no, status=None,
                               error=i18n.t("cp_wrong")), 404
    except RateLimited as exc:
        minutes = max(1, int(exc.details.get("retry_after", 60)) // 60)
        response = render_template("complaint.html", tracking_no=tracking_no, status=None,
                                   error=i18n.t("cp_limited", minutes=minutes))
        return response, 429, {"Retry-After": str(exc.details.get("retry_after", 60))}
    return render_template("complaint.html", tracking_no=tracking_no, status=_shown(status))


_STATUS_FORM = {"code": {"type": "string"}, "tracking_no": {"type": "string"}}
_STATUS_ANSWERS = {"200": {"description": "the status page", "content": {"text/html": {}}},
                   "403": {"description": "CSRF refused"},
                   "404": {"description": "wrong number or code (one answer for both)"},
                   "429": {"description": "too many lookups; Retry-After says when to retry"}}
OPENAPI_PATHS = {
    "/c": {"get": page_op("Complainant's status lookup form (A11.1)", session=False),
           "post": page_op("Look a complaint up by number and code (A11.1)", session=False,
                           method="post", form=_STATUS_FORM, answers=_STATUS_ANSWERS)},
    "/c/{tracking_no}": {
        "get": page_op("Complainant's status lookup form for one tracking number (A11.1)",
                       session=False),
        "post": page_op("The complaint's status for the typed code (A11.1, N21)",
                        session=False, method="post", form={"code": {"type": "string"}},
                        answers=_STATUS_ANSWERS)},
}

"""The supervisor's desk, ``/desk`` (issue 14): Today, Approvals, Cases and a case page, Live.
Every pane is one call of a core service with the signed-in officer (api.pages.web_auth);
approve and return go through core.cases.records.approve, as in the bot and the API. The
lists and forms work without JavaScript; Live needs it (Socket.IO, the department room)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, redirect, render_template, request, url_for

from core.cases import records
from core.cases.commands import Decide
from core.cases.search import CaseQuery, search_cases
from core.complaints import intake as complaint_intake
from core.deadlines import desk
from core.kernel import texts as words
from core.kernel.clock import parse_aware, utcnow
from core.kernel.errors import DomainError, Invalid
from core.kernel.vocab import STAGES
from core.metrics import compliance
from core.rules.catalogue import BY_NAME, CATALOGUE
from core.rules.deadline_rules import RuleTable

from ..auth import container, remote
from . import bp, charts, i18n
from .web_auth import desk_uow, page_op


@bp.get("/desk")
def desk_today():
    """Today: deadlines due today and overdue, escalations, dead deliveries."""
    with desk_uow() as (uow, actor):
        pane = desk.today(uow, actor)
    return render_template("desk/today.html", tab="today", pane=pane)


@bp.get("/desk/approvals")
def desk_approvals():
    """Approvals waiting for a role the officer holds, and their own returned records."""
    with desk_uow() as (uow, actor):
        pane = desk.approvals(uow, actor, lang=i18n.choose())
        queued = complaint_intake.queue_for(uow, actor, channel="web")
    done = request.args.get("done", "")
    return render_template("desk/approvals.html", tab="approvals", box=pane.inbox,
                           fields=pane.fields, intake=[
                               {**c, "received_local": parse_aware(c["received_at"]).astimezone(
                                   container().settings.legal_tz).strftime("%Y-%m-%d %H:%M")}
                               for c in queued],
                           reject_kinds=list(complaint_intake.REJECT_KINDS),
                           done=done if done in ("approve", "return", "accept", "reject")
                           else "")


@bp.post("/desk/complaint-intake/<intake_id>/accept")
def desk_intake_accept(intake_id: str):
    """Accept a public complaint: its case opens (core.complaints.intake.accept)."""
    with desk_uow() as (uow, actor):
        complaint_intake.accept(uow, actor, intake_id, channel="web", remote=remote())
    return redirect(url_for("pages.desk_approvals", done="accept"), code=303)


@bp.post("/desk/complaint-intake/<intake_id>/reject")
def desk_intake_reject(intake_id: str):
    """Reject a public complaint with its kind and reason (core.complaints.intake.reject)."""
    with desk_uow() as (uow, actor):
        complaint_intake.reject(uow, actor, intake_id, request.form.get("kind"),
                                request.form.get("reason", "").strip() or None,
                                channel="web", remote=remote())
    return redirect(url_for("pages.desk_approvals", done="reject"), code=303)


@bp.post("/desk/cases/<case_id>/records/<record_id>/decision")
def desk_decide(case_id: str, record_id: str):
    """Approve, or return with the reason: core.cases.records.approve (A10.1)."""
    with desk_uow() as (uow, actor):
        cmd = Decide.parse({"decision": request.form.get("decision"),
                            "opinion": request.form.get("opinion", "").strip()
                            or (i18n.t("desk_agree") if request.form.get("decision")
                                == "approve" else "")})
        taken = records.approve(uow, actor, case_id, record_id, cmd)
    return redirect(url_for("pages.desk_approvals", done=taken.approval.decision), code=303)


@bp.get("/desk/cases")
def desk_cases():
    """Search cases by number, party, officer and stage (GET: the address can be shared)."""
    query = CaseQuery.parse(request.args)
    with desk_uow() as (uow, actor):
        hits = search_cases(uow, actor, query)
    return render_template("desk/cases.html", tab="cases", query=query, hits=hits,
                           stages=[s for s in STAGES])


@bp.get("/desk/cases/<case_id>")
def desk_case(case_id: str):
    """One case: timeline, evidence with verdicts, checklist, service, deadlines, proof."""
    with desk_uow() as (uow, actor):
        view = desk.case_overview(uow, actor, case_id)
    return render_template("desk/case.html", tab="cases", view=view)


@bp.get("/desk/evidence/<evidence_id>/preview")
def desk_preview(evidence_id: str):
    """An evidence thumbnail for the case page (the officer may see the case)."""
    with desk_uow() as (uow, actor):
        data = desk.evidence_preview(uow, actor, evidence_id, remote=remote())
    return data, 200, {"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=3600"}


@bp.get("/desk/live")
def desk_live():
    """Live: the department's new items as they happen (Socket.IO, /live namespace)."""
    with desk_uow() as (_uow, _actor):
        pass
    return render_template("desk/live.html", tab="live",
                           texts=i18n.texts_with_prefix("livejs_"),
                           time_zone=container().settings.tz_legal)


def _metrics_query() -> compliance.MetricsQuery:
    """The period asked for (core's MetricsQuery.parse, as the API); none: this legal month."""
    args = request.args.to_dict()
    if not any(args.get(k) for k in ("from", "to", "month")):
        args["month"] = utcnow().astimezone(container().settings.legal_tz).strftime("%Y-%m")
    return compliance.MetricsQuery.parse(args)


def _metrics_figures() -> dict:
    """The A36.1 figures through core.metrics.compliance.compute, the API's call: the same
    readers, the same department scope, the same access log (A33.1)."""
    query = _metrics_query()
    with desk_uow() as (uow, actor):
        return compliance.compute(uow, actor, query, channel="web", remote=remote())


@bp.get("/desk/metrics")
def desk_metrics():
    """Metrics: the A36.1 figures of a period per department or officer, as charts and tables
    (GET: the address can be shared; no JavaScript)."""
    try:
        data = _metrics_figures()
    except Invalid as exc:  # a bad period: the form again with core's sentence, not a 500
        with desk_uow() as (_uow, _actor):  # signed in first, as any other pane
            pass
        return render_template("desk/metrics.html", tab="metrics", data=None,
                               error=exc.text(i18n.choose()), args=request.args), exc.status
    return render_template("desk/metrics.html", tab="metrics", data=data, error=None,
                           args=request.args)


@bp.get("/desk/metrics.csv")
def desk_metrics_csv():
    """The figures as CSV (core's to_csv), through the desk session."""
    data = _metrics_figures()
    name = f"metrics-{data['from']}-{data['to']}-{data['group']}.csv"
    return Response(compliance.to_csv(data), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/desk/metrics.pdf")
def desk_metrics_pdf():
    """The figures as the archival PDF report (core's report_pdf, as `flask metrics report`)."""
    data = _metrics_figures()
    name = f"metrics-{data['from']}-{data['to']}-{data['group']}.pdf"
    return Response(compliance.report_pdf(data), mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    """A refused step on a page: its sentence in the page's language, nothing else."""
    back = url_for("pages.complaint_find") if request.path.startswith("/c") else \
        url_for("pages.desk_today")
    return render_template("error.html", message=exc.text(i18n.choose()),
                           back_url=back), exc.status


def _label(table: str, code: str) -> str:
    """A stored code's words in the page's language (core.kernel.texts)."""
    try:
        return words.label(table, code, i18n.choose())
    except KeyError:
        return code


def _record_title(type_name: str) -> str:
    """A record type's title in the page's language (the catalogue)."""
    rtype = BY_NAME.get(type_name)
    if rtype is None:
        return type_name
    return rtype.title_en if i18n.choose() == "en" else rtype.title_zh


def _rule_records(rule_id: str) -> str:
    """The record types whose catalogue entry cites a rule: what satisfies a requirement."""
    found = [_record_title(r.name) for r in CATALOGUE if rule_id in r.rules][:3]
    return ("、" if i18n.choose() != "en" else ", ").join(found)


def _step_label(type_name: str, step: str) -> str:
    """An approval step's name in the page's language (the catalogue's chain)."""
    rtype = BY_NAME.get(type_name)
    found = next((s for s in rtype.approval_chain if s.step == step), None) if rtype else None
    return step if found is None or i18n.choose() == "en" else found.label_zh


_DEADLINE_RULES = RuleTable()  # titles only (as core.deadlines.reminders): figures not used


def _deadline_title(rule_id: str) -> str:
    """A deadline rule's title in the page's language (the deadline table), else the RULES.md
    ID's short name (core.kernel.texts), else nothing."""
    try:
        rule = _DEADLINE_RULES.rule_for(rule_id)
    except KeyError:
        name = _label("rule", rule_id)
        return "" if name == rule_id else name
    return rule.title_en if i18n.choose() == "en" else rule.title_zh


def _local_time(value: object) -> str:
    """An ISO time (or datetime) as legal time, YYYY-MM-DD HH:MM."""
    tz = container().settings.legal_tz
    try:
        when = value if isinstance(value, datetime) else parse_aware(value)
    except ValueError:
        return ""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


bp.add_app_template_global(_label, "label")
bp.add_app_template_global(_record_title, "record_title")
bp.add_app_template_global(_rule_records, "rule_records")
bp.add_app_template_global(_step_label, "step_label")
bp.add_app_template_global(_local_time, "local_time")
bp.add_app_template_global(_deadline_title, "deadline_title")
bp.add_app_template_global(lambda: container().settings.legal_tz, "legal_tz")
bp.add_app_template_global(charts.bars, "chart_bars")
bp.add_app_template_global(charts.FILLS, "chart_fills")


def _metrics_op(summary: str, answers: dict) -> dict:
    """A Metrics page's entry: the period's query parameters, and 422 for a bad one."""
    op = page_op(summary, session=True, answers={
        **answers, "403": {"description": "not a reader of the metrics (A36.1)"},
        "422": {"description": "from/to/month/group not understood"}})
    op["parameters"] = [{"name": n, "in": "query", "required": False,
                         "schema": {"type": "string"}} for n in ("from", "to", "month", "group")]
    return op


_PAGE = {"200": {"description": "page", "content": {"text/html": {}}},
         "302": {"description": "not signed in: to /signin"}}
OPENAPI_PATHS = {
    "/desk": {"get": page_op("Desk, Today: deadlines due today and overdue, escalations, dead "
                             "deliveries", session=True, answers=_PAGE)},
    "/desk/approvals": {"get": page_op("Desk, Approvals: waiting for the officer's roles, and "
                                       "their returned records (A10.1)", session=True,
                                       answers=_PAGE)},
    "/desk/complaint-intake/{intake_id}/accept": {"post": page_op(
        "Accept a public complaint waiting to be checked: its case opens (A11.1)",
        session=True, method="post", form={})},
    "/desk/complaint-intake/{intake_id}/reject": {"post": page_op(
        "Reject a public complaint as not a complaint, with the reason", session=True,
        method="post", form={"kind": {"enum": ["spam", "duplicate", "out_of_scope"]},
                             "reason": {"type": "string", "maxLength": 500}})},
    "/desk/cases": {"get": page_op("Desk, Cases: search by number, party, officer, stage",
                                   session=True, answers=_PAGE)},
    "/desk/cases/{case_id}": {"get": page_op("Desk, a case: timeline, evidence verdicts, "
                                             "checklist, service, deadlines, ledger proof",
                                             session=True, answers=_PAGE)},
    "/desk/cases/{case_id}/records/{record_id}/decision": {"post": page_op(
        "Approve, or return with the reason, the next approval step (A10.1)", session=True,
        method="post", form={"decision": {"enum": ["approve", "return"]},
                             "opinion": {"type": "string", "maxLength": 4000}})},
    "/desk/evidence/{evidence_id}/preview": {"get": page_op(
        "An evidence thumbnail for the desk", session=True,
        answers={"200": {"description": "JPEG", "content": {"image/jpeg": {}}},
                 "302": {"description": "not signed in"},
                 "404": {"description": "no such item, or no preview yet"}})},
    "/desk/metrics": {"get": _metrics_op("Desk, Metrics: the A36.1 figures of a period per "
                                         "department or officer, as charts with data tables",
                                         _PAGE)},
    "/desk/metrics.csv": {"get": _metrics_op("Desk, Metrics as CSV (A36.1)", {
        "200": {"description": "CSV", "content": {"text/csv": {}}},
        "302": {"description": "not signed in: to /signin"}})},
    "/desk/metrics.pdf": {"get": _metrics_op("Desk, Metrics as the PDF report (A36.1)", {
        "200": {"description": "PDF", "content": {"application/pdf": {}}},
        "302": {"description": "not signed in: to /signin"}})},
    "/desk/live": {"get": page_op("Desk, Live: the department's events over Socket.IO",
                                  session=True, answers=_PAGE)},
}

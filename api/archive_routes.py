"""Case files and their afterlife (A32–A36): build, volumes, download, archiving, the use
register, retention, access requests, disclosure copies and the compliance metrics."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, jsonify, request

from core.archive import access_requests, builds, custody, disclosure, retention
from core.kernel.clock import parse_aware
from core.kernel.errors import Invalid
from core.metrics import compliance
from worker.dossier import submit

from .auth import container, current_actor, handle, idempotent, json_body, remote
from .evidence import streamed

bp = Blueprint("archive", __name__, url_prefix="/api/v1")


def _time(body: dict, key: str) -> datetime:
    try:
        return parse_aware(str(body.get(key)))
    except (TypeError, ValueError):
        raise Invalid(f"{key} must be an ISO 8601 time with its zone",
                      zh=f"{key} 须为带时区的 ISO 8601 时间") from None


@bp.post("/cases/<case_id>/dossier")
def build_dossier(case_id: str):
    """Ask for the case file; 202 with the job to poll (A32.1)."""
    submitted = []

    def run(uow, actor):
        job = builds.request_build(uow, actor, case_id)
        submitted.append(job.id)
        return builds.job_json(job), 202

    with container().uow() as uow:
        body, status = run(uow, current_actor(uow))
    if body["status"] == "queued":
        submit(container(), submitted[0])
    return jsonify(body), status


@bp.get("/dossier-jobs/<job_id>")
def dossier_job(job_id: str):
    """A build's progress."""
    return handle(lambda uow, actor: (builds.job_json(builds.get_job(uow, actor, job_id)), 200))


@bp.get("/cases/<case_id>/dossiers")
def list_dossiers(case_id: str):
    """The case's volumes (A32.1); the read is logged (A33.1)."""
    return handle(lambda uow, actor: ({"dossiers": custody.list_volumes(uow, actor, case_id)},
                                      200))


@bp.get("/dossiers/<dossier_id>/bag")
def download_dossier(dossier_id: str):
    """The volume's bag (zip); the download is logged (A33.1)."""
    found = []
    handle(lambda uow, actor: (found.append(custody.download(
        uow, actor, dossier_id, remote=remote())) or {}, 200))
    row = found[0]
    response = streamed(container().blobs, row.bag_sha256, row.size, "application/zip")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=dossier-{row.case_id}-v{row.volume}.zip")
    return response


@bp.post("/dossiers/<dossier_id>/archive")
def archive_dossier(dossier_id: str):
    """A custodian accepts the volume into the archive (A32.1)."""
    def run(uow, actor):
        body = request.get_json(silent=True) or {}
        row = custody.archive(uow, actor, dossier_id, location=str(body.get("location", "")))
        return {"id": row.id, "dossier_id": row.dossier_id,
                "accepted_at": row.accepted_at.isoformat()}, 201
    return idempotent(run)


@bp.post("/dossiers/<dossier_id>/uses")
def hand_out(dossier_id: str):
    """Register a use of the file (A33.1)."""
    def run(uow, actor):
        b = json_body()
        use = custody.hand_out(uow, actor, dossier_id, user_name=str(b.get("user_name", "")),
                               purpose=str(b.get("purpose", "")),
                               approved_by=b.get("approved_by"))
        return {"id": use.id, "handed_out_at": use.at.isoformat()}, 201
    return idempotent(run)


@bp.post("/dossier-uses/<use_id>/return")
def take_back(use_id: str):
    """Register the return of a file handed out (A33.1)."""
    def run(uow, actor):
        back = custody.take_back(uow, actor, use_id)
        return {"id": back.id, "returned_at": back.at.isoformat()}, 201
    return idempotent(run)


@bp.get("/cases/<case_id>/dossier-uses")
def use_register(case_id: str):
    """The case's use register (A33.1)."""
    return handle(lambda uow, actor: ({"uses": custody.register(uow, actor, case_id)}, 200))


@bp.get("/cases/<case_id>/retention")
def retention_status(case_id: str):
    """The case's retention period, basis, hold and expiry (A34.1)."""
    def run(uow, actor):
        return retention.read_status(uow, actor, case_id), 200
    return handle(run)


@bp.post("/cases/<case_id>/retention")
def retention_decide(case_id: str):
    """A retention step: {"action": "period"|"hold"|"release"|"appraisal", ...} (A34.1)."""
    def run(uow, actor):
        b = json_body()
        action = b.get("action")
        basis = str(b.get("basis", ""))
        if action == "period":
            out = retention.set_period(uow, actor, case_id, years=b.get("years"), basis=basis)
        elif action in ("hold", "release"):
            out = retention.legal_hold(uow, actor, case_id, on=action == "hold", basis=basis)
        elif action == "appraisal":
            out = retention.appraise(uow, actor, case_id, decision=str(b.get("decision", "")),
                                     basis=basis, years=b.get("years"))
        else:
            raise Invalid("action must be period, hold, release or appraisal",
                          zh="action 须为 period、hold、release 或 appraisal")
        return out, 201
    return idempotent(run)


@bp.get("/retention/disposal-review")
def disposal_review():
    """Archived cases whose period ran out, for appraisal (A34.1)."""
    def run(uow, actor):
        on = request.args.get("on")
        try:
            day = date.fromisoformat(on) if on else None
        except ValueError:
            raise Invalid("on must be a date (YYYY-MM-DD)", zh="on 须为日期（YYYY-MM-DD）") \
                from None
        return {"cases": retention.disposal_review(uow, actor, on=day)}, 200
    return handle(run)


@bp.post("/cases/<case_id>/access-requests")
def receive_request(case_id: str):
    """Record a request to see the records (A35.1, N22)."""
    def run(uow, actor):
        b = json_body()
        req = access_requests.receive(
            uow, actor, case_id, requester_name=str(b.get("requester_name", "")),
            requester_kind=str(b.get("requester_kind", "")), asked=str(b.get("asked", "")),
            received_at=_time(b, "received_at"),
            identity_document=str(b.get("identity_document", "")),
            identity_checked=bool(b.get("identity_checked")))
        return access_requests.request_json(uow, actor, req.id), 201
    return idempotent(run)


@bp.get("/access-requests/<request_id>")
def get_request(request_id: str):
    """A request with its steps and due time."""
    return handle(lambda uow, actor: (access_requests.request_json(uow, actor, request_id),
                                      200))


@bp.post("/access-requests/<request_id>/<step>")
def request_step(request_id: str, step: str):
    """correction | corrected | extend | reply (A35.1, N22)."""
    def run(uow, actor):
        b = json_body()
        if step == "correction":
            access_requests.ask_correction(uow, actor, request_id, note=str(b.get("note", "")))
        elif step == "corrected":
            access_requests.corrected(uow, actor, request_id, at=_time(b, "at"),
                                      note=str(b.get("note", "")))
        elif step == "extend":
            access_requests.extend(uow, actor, request_id,
                                   approved_by=str(b.get("approved_by", "")),
                                   reason=str(b.get("reason", "")))
        elif step == "reply":
            access_requests.reply(uow, actor, request_id, outcome=str(b.get("outcome", "")),
                                  legal_reason=str(b.get("legal_reason", "")),
                                  disclosed=b.get("disclosed") or [],
                                  disclosure_id=b.get("disclosure_id"))
        else:
            raise Invalid("step must be correction, corrected, extend or reply",
                          zh="步骤须为 correction、corrected、extend 或 reply")
        return access_requests.request_json(uow, actor, request_id), 201
    return idempotent(run)


@bp.post("/cases/<case_id>/disclosure-copies")
def make_disclosure(case_id: str):
    """A masked copy for the party or the public, with chosen photo areas blurred (A35.1)."""
    with container().uow() as uow:
        actor = current_actor(uow)
        cmd = disclosure.DisclosureCommand.parse(json_body())
        actor_id = actor.id
    return jsonify(disclosure.make_copy(container(), actor_id, case_id, cmd)), 201


@bp.get("/disclosure-copies/<copy_id>/zip")
def download_disclosure(copy_id: str):
    """A disclosure copy (zip); the download is logged (A33.1)."""
    found = []
    handle(lambda uow, actor: (found.append(disclosure.download(
        uow, actor, copy_id, remote=remote())) or {}, 200))
    row = found[0]
    response = streamed(container().blobs, row.sha256, row.size, "application/zip")
    response.headers["Content-Disposition"] = f"attachment; filename=disclosure-{row.id}.zip"
    return response


@bp.get("/metrics")
def metrics():
    """A36.1 compliance figures: ?from=&to= (or month=)&group=department|officer&format=json|csv."""
    def run(uow, actor):
        q = compliance.MetricsQuery.parse(request.args)
        return compliance.compute(uow, actor, q), 200
    if request.args.get("format") == "csv":
        with container().uow() as uow:
            actor = current_actor(uow)
            data = compliance.compute(uow, actor, compliance.MetricsQuery.parse(request.args))
        return Response(compliance.to_csv(data), mimetype="text/csv; charset=utf-8")
    return handle(run)


def _op(summary: str, status: str, errors: tuple[int, ...], params: tuple[str, ...],
        body: bool = False, query: tuple[str, ...] = ()) -> dict:
    op: dict = {"summary": summary,
                "parameters": [{"name": p, "in": "path", "required": True,
                                "schema": {"type": "string"}} for p in params]
                + [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
                   for q in query],
                "responses": {status: {"description": summary},
                              **{str(e): {"description": "error", "content": {
                                  "application/json": {"schema": {
                                      "$ref": "#/components/schemas/Error"}}}}
                                 for e in errors}}}
    if body:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"type": "object"}}}}
    return op


_C, _D, _R = ("case_id",), ("dossier_id",), ("request_id",)
OPENAPI_PATHS = {
    "/api/v1/cases/{case_id}/dossier": {"post": _op(
        "Compile the case file as a job; poll the job (A32.1)", "202", (401, 403, 404, 409),
        _C)},
    "/api/v1/dossier-jobs/{job_id}": {"get": _op("A dossier build's progress", "200",
                                                 (401, 404), ("job_id",))},
    "/api/v1/cases/{case_id}/dossiers": {"get": _op(
        "The case's volumes and their acceptance (A32.1)", "200", (401, 404), _C)},
    "/api/v1/dossiers/{dossier_id}/bag": {"get": _op(
        "Download a volume's BagIt zip; logged (A33.1)", "200", (401, 404), _D)},
    "/api/v1/dossiers/{dossier_id}/archive": {"post": _op(
        "A custodian accepts the volume into the archive (A32.1)", "201",
        (401, 403, 404, 409), _D)},
    "/api/v1/dossiers/{dossier_id}/uses": {"post": _op(
        "Register a use: user, purpose, approved_by (A33.1)", "201", (401, 403, 404, 422), _D,
        True)},
    "/api/v1/dossier-uses/{use_id}/return": {"post": _op(
        "Register the return of a file handed out (A33.1)", "201", (401, 403, 404, 409),
        ("use_id",))},
    "/api/v1/cases/{case_id}/dossier-uses": {"get": _op(
        "The case's use register (A33.1)", "200", (401, 404), _C)},
    "/api/v1/cases/{case_id}/retention": {
        "get": _op("Retention period, basis, hold and expiry (A34.1)", "200", (401, 404), _C),
        "post": _op("A retention step: period, hold, release or appraisal (A34.1)", "201",
                    (401, 403, 404, 409, 422), _C, True)},
    "/api/v1/retention/disposal-review": {"get": _op(
        "Archived cases whose period ran out, for appraisal (A34.1)", "200", (401, 403, 422),
        (),
        query=("on",))},
    "/api/v1/cases/{case_id}/access-requests": {"post": _op(
        "Record a request to see the records (A35.1, N22)", "201", (401, 403, 404, 422), _C,
        True)},
    "/api/v1/access-requests/{request_id}": {"get": _op(
        "A request with its steps and due time (A35.1)", "200", (401, 404), _R)},
    "/api/v1/access-requests/{request_id}/{step}": {"post": _op(
        "correction | corrected | extend | reply (A35.1, N22)", "201",
        (401, 403, 404, 409, 422), (*_R, "step"), True)},
    "/api/v1/cases/{case_id}/disclosure-copies": {"post": _op(
        "A masked copy with blurred photo areas for the party or the public (A35.1)", "201",
        (401, 403, 404, 422), _C, True)},
    "/api/v1/disclosure-copies/{copy_id}/zip": {"get": _op(
        "Download a disclosure copy; logged (A33.1)", "200", (401, 404), ("copy_id",))},
    "/api/v1/metrics": {"get": _op(
        "Compliance figures per department or officer, JSON or CSV (A36.1)", "200",
        (401, 403, 422), (), query=("from", "to", "month", "group", "format"))},
}

"""Signatures, refusals, service receipts and random draws: the workflow around records."""

from __future__ import annotations

from flask import Blueprint, request

from core.cases import draw as draw_service
from core.cases import receipts, service_of_documents
from core.cases import signatures as sig_service
from core.cases.commands import SIGN_METHODS, Refuse, Sign
from core.evidence import receipt_tasks
from core.kernel.errors import Invalid

from .auth import container, current_actor, handle, idempotent, json_body
from .schemas import ID, ref

bp = Blueprint("workflow", __name__, url_prefix="/api/v1/cases")


def _signature_input() -> Sign:
    """JSON with image_base64, or multipart with the image as the file `image`."""
    if request.mimetype != "multipart/form-data":
        return Sign.parse(json_body())
    upload = request.files.get("image")
    try:
        if upload is None:
            raise Invalid("multipart uploads carry the image as the file field `image`",
                          zh="多部分上传须以文件字段 image 提交图片",
                          details={"fields": {"image": "required"}, "missing": ["A13.2"]})
        data = upload.stream.read(sig_service.MAX_IMAGE_BYTES + 1)
    finally:
        # Large parts are spooled to temporary files: close them now, not at GC.
        for part in request.files.values():
            part.close()
    sig_service.sniff_image(data, "image")  # 413, 415 or 422 (dimensions) before anything else
    return Sign.parse(request.form.to_dict(), image=data)


def _with_receipt(uow, body: dict, record_id: str | None) -> dict:
    """Say so when this request queued the record's 送达回证 (drawn after the commit by the
    media worker, issue 12): that it is being prepared and where it will appear."""
    notice = receipt_tasks.queued_notice(uow.session, record_id) if record_id else None
    return {**body, "receipt": notice} if notice else body


@bp.post("/<case_id>/records/<record_id>/signatures")
def add_signature(case_id: str, record_id: str):
    """A signature, fingerprint or seal image by one signer role (A13.2)."""
    def run(uow, actor):
        sig = sig_service.add_signature(uow, actor, case_id, record_id, _signature_input())
        return _with_receipt(uow, sig_service.signature_json(sig), sig.record_id), 201

    return idempotent(run)


@bp.post("/<case_id>/records/<record_id>/refusals")
def add_record_refusal(case_id: str, record_id: str):
    """A refusal to sign a record, with witnesses or a video (A22.2)."""
    def run(uow, actor):
        refusal = sig_service.add_refusal(uow, actor, case_id,
                                          Refuse.parse(json_body(), record_id=record_id))
        return _with_receipt(uow, sig_service.refusal_json(refusal), refusal.record_id), 201

    return idempotent(run)


@bp.post("/<case_id>/refusals")
def add_refusal(case_id: str):
    """A refusal to accept investigation or give evidence (A13.3)."""
    def run(uow, actor):
        refusal = sig_service.add_refusal(uow, actor, case_id, Refuse.parse(json_body()))
        return sig_service.refusal_json(refusal), 201

    return idempotent(run)


@bp.get("/<case_id>/records/<record_id>/status")
def record_status(case_id: str, record_id: str):
    """What a record has and still lacks: signatures, refusals, AV (A13.2, A15.1)."""
    def run(uow, actor):
        return sig_service.record_status(uow, actor, case_id, record_id), 200

    return handle(run)


@bp.post("/<case_id>/records/<record_id>/receipt")
def make_receipt(case_id: str, record_id: str):
    """Generate the 送达回证 of a service record now, with what has been signed (A23.1): read,
    then drawn with no transaction open (images through the sandbox), then stored."""
    with container().uow(read_only=True) as uow:
        data, final = receipts.prepare(uow, current_actor(uow, read_only=True), case_id,
                                       record_id)
    pdf = receipts.draw(uow, data, final)

    def run(uow, actor):
        return receipts.receipt_json(receipts.keep(uow, actor, data, pdf, final)), 201

    return idempotent(run)


@bp.get("/<case_id>/services")
def services(case_id: str):
    """Every document to be served, how and when it was served (A23.1–A28.1, N18–N20)."""
    def run(uow, actor):
        return {"case_id": case_id,
                "documents": service_of_documents.services_of(uow, actor, case_id)}, 200

    return handle(run)


@bp.post("/<case_id>/draws/commitments")
def draw_commitment(case_id: str):
    """Publish the server's commitment before a random draw (A12.1)."""
    def run(uow, actor):
        record = draw_service.commit(uow, actor, case_id)
        return {"record_id": record.id, **record.fields,
                "created_at": record.created_at.isoformat()}, 201

    return idempotent(run)


@bp.post("/<case_id>/draws")
def make_draw(case_id: str):
    """Draw inspection objects and officers with the committed nonce and an outside value."""
    def run(uow, actor):
        record = draw_service.draw(uow, actor, case_id, json_body())
        return {"record_id": record.id, **record.fields}, 201

    return idempotent(run)


@bp.post("/<case_id>/draws/<draw_id>/recusals")
def recuse(case_id: str, draw_id: str):
    """Replace a recused officer by a recorded re-draw (A12.1, A14.1)."""
    def run(uow, actor):
        record = draw_service.recuse(uow, actor, case_id, draw_id, json_body())
        return {"record_id": record.id, "corrects": record.corrects_id, **record.fields}, 201

    return idempotent(run)


@bp.get("/<case_id>/draws/<draw_id>/verify")
def verify_draw(case_id: str, draw_id: str):
    """Re-run a draw from its record and say whether it matches."""
    def run(uow, actor):
        return draw_service.verify_draw(uow, actor, case_id, draw_id), 200

    return handle(run)


def _path_op(summary: str, status: str, errors: tuple[int, ...], body: dict | None = None,
             params: tuple[str, ...] = ("case_id",), result: str | dict = "Record") -> dict:
    result_schema = ref(result) if isinstance(result, str) else result
    codes = sorted(set(errors) | {401} | ({400, 413, 422} if body is not None else set()))
    op: dict = {"summary": summary, "tags": ["records"],
                "parameters": [{"name": p, "in": "path", "required": True, "schema": ID}
                               for p in params],
                "responses": {status: {"description": summary, "content": {
                    "application/json": {"schema": result_schema}}},
                              **{str(e): {"description": "error", "content": {
                                  "application/json": {"schema": ref("Error")}}}
                                 for e in codes}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
        op["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "maxLength": 200,
                                            "pattern": "^[ -~]+$"}})
    return op


_SIGNATURE = {
    "application/json": {"schema": ref("NewSignature")},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["role", "method", "image"], "additionalProperties": False,
        "properties": {"image": {"type": "string", "format": "binary",
                                 "contentMediaType": "image/png"},
                       "role": {"type": "string", "maxLength": 32},
                       "method": {"enum": list(SIGN_METHODS)},
                       "signer_name": {"type": "string", "maxLength": 100},
                       "signer_officer_id": ID,
                       "signed_at": {"type": "string", "format": "date-time"},
                       "on_behalf": {"type": "boolean"}}}},
}
_REFUSAL = {"application/json": {"schema": ref("NewRefusal")}}
_REGISTER = {"type": "array", "minItems": 1, "uniqueItems": True,
             "items": {"type": "string", "minLength": 1, "maxLength": 500}}
_DRAW = {"application/json": {"schema": {
    "type": "object", "additionalProperties": False,
    "required": ["commitment_record_id", "objects_register", "officers_register",
                 "outside_value", "objects_count", "officers_count"],
    "description": "draw from the registers with the committed nonce and a value no one at "
                   "the server controls (A12.1)",
    "properties": {"commitment_record_id": ID, "objects_register": _REGISTER,
                   "officers_register": {**_REGISTER, "items": ID,
                                         "description": "certified officers (A14.1)"},
                   "sampling_method": {"type": "string", "maxLength": 4000},
                   "outside_value": {"type": "string", "minLength": 1, "maxLength": 500},
                   "objects_count": {"type": "integer", "minimum": 1},
                   "officers_count": {"type": "integer", "minimum": 2}}}}}
_RECUSAL = {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "required": ["officer_id", "reason"],
    "properties": {"officer_id": ID, "reason": {"type": "string", "minLength": 1,
                                                "maxLength": 4000}}}}}
_REC = ("case_id", "record_id")
_DRAWN = {"type": "object", "required": ["record_id"], "properties": {"record_id": ID}}


def openapi_paths() -> dict:
    """Paths of this blueprint for the OpenAPI document (api/openapi.py merges them)."""
    return OPENAPI_PATHS


OPENAPI_PATHS = {
    "/api/v1/cases/{case_id}/records/{record_id}/signatures": {"post": _path_op(
        "Sign a record: signature, fingerprint or seal image (A13.2)", "201",
        (403, 404, 409, 413, 415, 422), _SIGNATURE, _REC, "Signature")},
    "/api/v1/cases/{case_id}/records/{record_id}/refusals": {"post": _path_op(
        "Refusal to sign with witnesses or a video (A22.2)", "201", (403, 404, 409, 413, 422),
        _REFUSAL, _REC, "Refusal")},
    "/api/v1/cases/{case_id}/refusals": {"post": _path_op(
        "Refusal to accept investigation or give evidence (A13.3)", "201",
        (403, 404, 409, 422), _REFUSAL, result="Refusal")},
    "/api/v1/cases/{case_id}/records/{record_id}/status": {"get": _path_op(
        "What a record has and still lacks (A13.2, A15.1)", "200", (404,), None, _REC,
        "RecordCheck")},
    "/api/v1/cases/{case_id}/records/{record_id}/receipt": {"post": _path_op(
        "Generate the 送达回证 PDF of a service record now (A23.1)", "201",
        (403, 404, 409, 422), None, _REC, "Receipt")},
    "/api/v1/cases/{case_id}/services": {"get": _path_op(
        "Documents to serve, their services and served dates (A23.1–A28.1)", "200",
        (404,), result="Services")},
    "/api/v1/cases/{case_id}/draws/commitments": {"post": _path_op(
        "Publish the server commitment before a draw (A12.1)", "201", (403, 404, 409, 422),
        result=_DRAWN)},
    "/api/v1/cases/{case_id}/draws": {"post": _path_op(
        "Random draw of inspection objects and officers (A12.1)", "201",
        (403, 404, 409, 422), _DRAW, result=_DRAWN)},
    "/api/v1/cases/{case_id}/draws/{draw_id}/recusals": {"post": _path_op(
        "Replace a recused officer by a recorded re-draw (A12.1, A14.1)", "201",
        (403, 404, 409, 422), _RECUSAL, ("case_id", "draw_id"), _DRAWN)},
    "/api/v1/cases/{case_id}/draws/{draw_id}/verify": {"get": _path_op(
        "Re-run a draw from its record", "200", (404, 409), None, ("case_id", "draw_id"),
        _DRAWN)},
}

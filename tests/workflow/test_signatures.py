"""Signatures and refusals on records (A13.2, A13.3, A22.2)."""

from __future__ import annotations

import base64
import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core.cases.models import Refusal, Signature
from tests.helpers import auth
from tests.workflow.flow import PNG_B64, WITNESSES, png_bytes


def _inquiry(flow):
    case = flow.filed()
    return case, flow.record(case, "inquiry_record")


def _status(flow, case, record) -> dict:
    return flow.get(f"/api/v1/cases/{case['id']}/records/{record['id']}/status")


def test_every_signer_role_signs_with_an_image(flow, container):
    """A13.2: officers each sign for themselves and the interviewee signs; the image is stored
    by hash; until then the record is incomplete and investigation cannot end."""
    case, rec = _inquiry(flow)
    status = _status(flow, case, rec)
    assert status["complete"] is False
    assert [m["rule"] for m in status["missing"]] == ["A13.2"] * 3
    assert flow.missing(case, "decision") == ["A13.2"]
    sig = flow.sign(case, rec, "officer", officer_id=flow.officer["id"], method="signature")
    assert sig["signer_name"] == "张伟" and len(sig["image_sha256"]) == 64
    with container.uow() as uow:
        assert uow.blobs.exists(sig["image_sha256"])
    flow.sign(case, rec, "officer", officer_id=flow.officer2["id"])
    flow.sign(case, rec, "interviewee", method="fingerprint")
    assert _status(flow, case, rec)["complete"] is True
    flow.move(case, "decision")


def test_signature_by_multipart_upload(flow, client):
    """A13.2: the image may come as a multipart file; a seal is accepted as the method."""
    case, rec = _inquiry(flow)
    r = client.post(f"/api/v1/cases/{case['id']}/records/{rec['id']}/signatures",
                    headers=auth(flow.officer), content_type="multipart/form-data",
                    data={"role": "interviewee", "signer_name": "周建国", "method": "seal",
                          "image": (io.BytesIO(png_bytes("red")), "seal.png")})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["method"] == "seal"


def test_signature_images_are_checked(flow, client):
    """A13.2: a signature needs a real image of bounded size from an allowed signer."""
    case, rec = _inquiry(flow)
    url = f"/api/v1/cases/{case['id']}/records/{rec['id']}/signatures"
    hdr = auth(flow.officer)
    base = {"role": "interviewee", "signer_name": "周建国", "method": "signature"}
    not_image = base64.b64encode(b"%PDF-1.4 not a picture").decode()
    huge = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024)).decode()
    cases = [
        ({**base}, 422),  # no image
        ({**base, "image_base64": "!!!"}, 422),
        ({**base, "image_base64": not_image}, 415),
        ({**base, "image_base64": huge}, 413),
        ({**base, "role": "party", "image_base64": PNG_B64}, 422),  # not a signer of 询问笔录
        ({**base, "method": "stamp", "image_base64": PNG_B64}, 422),
        ({"role": "officer", "method": "signature", "image_base64": PNG_B64,
          "signer_officer_id": flow.people["head"]["id"]}, 422),  # not on the record
    ]
    for body, status in cases:
        r = client.post(url, json=body, headers=hdr)
        assert r.status_code == status, (body.get("role"), r.get_json())
        assert r.get_json()["error"]["message"]
    # Encoded up front: the test client's own streaming encoder leaks a temporary file.
    boundary, body = encode_multipart(
        {**base, "image": FileStorage(io.BytesIO(b"GIF89a" + b"\0" * 3_000_000), "x.gif")})
    r = client.post(url, headers=hdr, data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 413, r.get_json()
    flow.sign(case, rec, "interviewee")
    flow.sign(case, rec, "interviewee", expect=409)  # the same person twice


def test_refusal_to_sign_needs_witnesses_or_video(flow, container):
    """A22.2: a refusal with neither witnesses nor video is refused naming A22.2; witnesses
    need name, ID number, relation and a signature image; a video of the same case counts."""
    case, rec = _inquiry(flow)
    r = flow.refuse(case, rec, "interviewee", witnesses=None, expect=422)
    assert r["error"]["missing"] == ["A22.2"]
    no_image = [{k: v for k, v in WITNESSES[0].items() if k != "signature_image_base64"}]
    assert flow.refuse(case, rec, "interviewee", witnesses=no_image,
                       expect=422)["error"]["missing"] == ["A22.2"]
    photo = flow.av(case, None, "image/jpeg")
    assert flow.refuse(case, rec, "interviewee", witnesses=None, video_id=photo,
                       expect=422)["error"]["fields"]["video_evidence_id"] == "not a video"
    other_case = flow.open()
    foreign = flow.av(other_case, None, "video/mp4")
    flow.refuse(case, rec, "interviewee", witnesses=None, video_id=foreign, expect=422)
    flow.refuse(case, rec, "officer", expect=422)  # officers sign, they do not refuse

    refusal = flow.refuse(case, rec, "interviewee")
    assert [w["name"] for w in refusal["witnesses"]] == ["黄敏", "李强"]
    assert all(len(w["signature_sha256"]) == 64 for w in refusal["witnesses"])
    with container.uow() as uow:
        row = uow.session.execute(select(Refusal)).scalar_one()
        assert row.refused == "sign" and row.record_id == rec["id"]
    status = _status(flow, case, rec)
    assert [m["text"] for m in status["missing"]] == [
        "officer 张伟 has not signed", "officer 李娜 has not signed"]


def test_refusal_on_video_alone(flow):
    """A22.2: a video of the refusal from the same case is enough without witnesses."""
    case, rec = _inquiry(flow)
    video = flow.av(case, None, "video/mp4", proves="当事人拒绝签字的过程")
    refusal = flow.refuse(case, rec, "interviewee", witnesses=None, video_id=video)
    assert refusal["video_evidence_id"] == video
    flow.sign(case, rec, "officer", officer_id=flow.officer["id"])
    flow.sign(case, rec, "officer", officer_id=flow.officer2["id"])
    assert _status(flow, case, rec)["complete"] is True


def test_refusal_to_give_evidence(flow, container):
    """A13.3: a refusal to accept investigation or give evidence records who, what, the reason,
    time and place, with or without a record."""
    case = flow.filed()
    r = flow.post(f"/api/v1/cases/{case['id']}/refusals", {
        "refused": "evidence", "role": "holder", "person_name": "周建国",
        "reason": "称账册已丢失", "place": "公司财务室", "at": flow.clock.iso()})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["refused"], body["record_id"], body["witnesses"]) == ("evidence", None, [])
    r = flow.post(f"/api/v1/cases/{case['id']}/refusals", {
        "refused": "investigation", "role": "party", "person_name": "周建国",
        "reason": "拒绝开门", "place": ""})
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"place": "required"}
    with container.uow() as uow:
        assert uow.session.execute(select(Refusal.refused)).scalars().all() == ["evidence"]


def test_signatures_on_a_corrected_record_are_refused(flow, container):
    """A13.2: the newest version of a corrected record is the one to sign."""
    case, rec = _inquiry(flow)
    r = flow.post(f"/api/v1/cases/{case['id']}/records", {
        "type": "inquiry_record", "corrects": rec["id"], "officers": flow.pair,
        "fields": flow.fields("inquiry_record", content="更正后的问答")})
    assert r.status_code == 201
    fixed = r.get_json()
    flow.sign(case, rec, "interviewee", expect=409)
    flow.sign(case, fixed, "interviewee")
    with container.uow() as uow:
        signed = uow.session.execute(select(Signature.record_id).where(
            Signature.role == "interviewee")).scalars().all()
    assert signed == [fixed["id"]]

"""Four eyes and signing for oneself (issue 10 item 13, issue 15 item 4): A10.1, A13.2."""

from __future__ import annotations

from core.kernel.ids import new_id
from core.people.models import Officer
from tests.helpers import approve
from tests.workflow.flow import PNG_B64


def test_a10_1_nobody_approves_what_they_submitted_nor_two_steps(flow, container, people):
    """A10.1: a filing form submitted by a supervisor who is also an officer cannot be approved
    at the unit step by that supervisor; a person holding the unit's and the head's roles who
    approved the unit step cannot also approve as head: the head's step goes to another."""
    with container.uow() as uow:
        sup = uow.session.get(Officer, people["supervisor"]["id"])
        sup.roles = sorted({*sup.roles, "officer", "head"})
    case = flow.open()
    form = flow.record(case, "filing_form", user=people["supervisor"])
    r = approve(flow.client, people["supervisor"], case["id"], form["id"])
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["A10.1"]

    form = flow.record(case, "filing_form")  # submitted by the first officer
    r = approve(flow.client, people["supervisor"], case["id"], form["id"])
    assert r.status_code == 201, r.get_json()
    r = approve(flow.client, people["supervisor"], case["id"], form["id"])
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["A10.1"]
    r = approve(flow.client, people["head"], case["id"], form["id"])
    assert r.status_code == 201 and r.get_json()["chain_complete"] is True


def test_a13_2_an_officer_signs_for_themselves_or_it_says_who_recorded_it(flow, container):
    """A13.2, A10.1: an officer's signature defaults to the caller; signing as a colleague is
    refused unless the caller is on the record and marks it captured on the colleague's behalf;
    then the record and the 送达回证 say "recorded by 张伟 for 李娜"."""
    case = flow.filed()
    inquiry = flow.record(case, "inquiry_record")
    url = f"/api/v1/cases/{case['id']}/records/{inquiry['id']}/signatures"
    mine = flow.post(url, {"role": "officer", "method": "signature", "image_base64": PNG_B64})
    assert mine.status_code == 201 and mine.get_json()["signer_officer_id"] == flow.officer["id"]
    assert mine.get_json()["on_behalf"] is False
    body = {"role": "officer", "method": "signature", "image_base64": PNG_B64,
            "signer_officer_id": flow.officer2["id"]}
    r = flow.post(url, body)
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["A13.2"]
    outsider = flow.post(url, {**body, "on_behalf": True}, flow.people["supervisor"])
    assert outsider.status_code in (403, 409)  # not on the record
    r = flow.post(url, {**body, "on_behalf": True})
    assert r.status_code == 201 and r.get_json()["on_behalf"] is True
    status = flow.get(f"/api/v1/cases/{case['id']}/records/{inquiry['id']}/status")
    behalf = [s for s in status["signatures"] if s.get("note")]
    assert [s["note"] for s in behalf] == [
        f"recorded by {flow.officer['name']} for {flow.officer2['name']}"]
    assert behalf[0]["note_zh"] == f"由{flow.officer['name']}代{flow.officer2['name']}录入"


def test_a10_1_receipt_shows_who_recorded_a_servers_signature():
    """A10.1, A23.1: a server's signature captured by a colleague is named on the 送达回证."""
    from core.cases.models import Signature
    from core.cases.receipts import recorded_note

    sig = Signature(id=new_id(), record_id="r", case_id="c", role="server", signer_name="李娜",
                    signer_officer_id="b", method="signature", image_sha256=None,
                    signed_at=None, created_by="a", created_at=None)
    assert recorded_note(sig, {"a": "张伟"}) == "（由张伟代李娜录入 / recorded by 张伟 for 李娜）"
    sig.created_by = "b"
    assert recorded_note(sig, {"a": "张伟"}) == ""

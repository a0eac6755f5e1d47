"""Interrupted AV recordings (A17.2), through the API as through the bot: the interruption is
corrected, append-only, with the time the recording resumed and the voice explanation."""

from __future__ import annotations


def test_resume_corrects_the_interruption_once(flow):
    """A17.2: a recording that can continue resumes: POST …/interruptions/{id}/resume records
    resumed_at and voice_explained as a correction of the interruption; a second resume is a
    409; an unknown id is a 404; until it resumes, the archiving checklist shows it open."""
    case = flow.filed()
    stopped = flow.post(f"/api/v1/cases/{case['id']}/records", {
        "type": "av_interruption", "occurred_at": flow.clock.iso(minutes=-9),
        "fields": {"reason": "battery", "interrupted_at": flow.clock.iso(minutes=-10),
                   "can_continue": True}}).get_json()
    assert "id" in stopped, stopped
    checklist = flow.get(f"/api/v1/cases/{case['id']}/checklist")["stages"]["archiving"]
    assert [i["status"] for i in checklist if i["id"] == "A17.2"] == ["missing"]
    url = f"/api/v1/cases/{case['id']}/interruptions/{stopped['id']}/resume"
    r = flow.post(url, {"voice_explained": True, "resumed_at": flow.clock.iso(minutes=-2)})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["corrects"] == stopped["id"]
    assert body["fields"]["voice_explained"] is True and body["fields"]["reason"] == "battery"
    assert body["fields"]["resumed_at"]
    again = flow.post(url, {"voice_explained": True})
    assert again.status_code == 409  # that version is corrected: it resumed already
    latest = flow.post(f"/api/v1/cases/{case['id']}/interruptions/{body['id']}/resume",
                       {"voice_explained": False})
    assert latest.status_code == 409 and latest.get_json()["error"]["message"]
    unknown = flow.post(f"/api/v1/cases/{case['id']}/interruptions/{'0' * 32}/resume",
                        {"voice_explained": True})
    assert unknown.status_code == 404
    bad = flow.post(url, {"voice_explained": "yes"})
    assert bad.status_code == 422


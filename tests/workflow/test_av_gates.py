"""AV gates (A5.1, A12.1, A15.1, A17.1, A17.2): steps that need AV are not done without it or
a recorded reason, and interrupted recordings are explained."""

from __future__ import annotations


def _investigating(flow, **over):
    return flow.filed(**over)


def test_onsite_inspection_needs_av_or_a_reason(flow):
    """A15.1: an on-site inspection record without AV keeps the case in investigation, and the
    checklist says which record lacks what; a video, or a reason it was unsuitable, ends it."""
    case = _investigating(flow)
    first = flow.done(case, "onsite_inspection_record")
    assert flow.missing(case, "decision") == ["A15.1"]
    a151 = [i for i in flow.checklist(case)["investigation"]
            if i["id"] == "A15.1" and i["status"] == "missing"]
    assert a151 and first["id"] in a151[0]["detail"][0]
    flow.av(case, first["id"], "image/jpeg")
    second = flow.done(case, "sampling_notice", av_unsuitable_reason="涉密场所，不宜录像")
    flow.done(case, "sampling_item_list", sampling_notice_id=second["id"])
    flow.move(case, "decision")


def test_av_must_say_what_it_proves(flow):
    """A17.1: an AV item that does not state its object of proof does not satisfy the gate."""
    case = _investigating(flow)
    rec = flow.done(case, "onsite_inspection_record")
    flow.av(case, rec["id"], proves="  ")
    assert flow.missing(case, "decision") == ["A15.1"]
    flow.av(case, rec["id"], proves="现场违法建设状况")
    flow.move(case, "decision")


def test_inspection_case_needs_its_onsite_record(flow):
    """A12.1: an inspection case cannot leave investigation on an inquiry alone: the on-site
    inspection itself must be recorded with AV."""
    case = flow.open(kind="inspection", initiation="ex_officio")
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    flow.done(case, "inquiry_record")
    assert flow.missing(case, "decision") == ["A12.1"]
    rec = flow.done(case, "onsite_inspection_record")
    assert flow.missing(case, "decision") == ["A12.1", "A15.1"]
    flow.av(case, rec["id"])
    flow.move(case, "decision")


def test_late_records_are_caught_before_closing(flow):
    """A5.1, A13.2: a record of an earlier stage made later, unsigned and without AV, stops
    the case at archiving."""
    case = flow.open(kind="licensing", initiation="application")
    flow.done(case, "application_acceptance")
    flow.move(case, "investigation")
    flow.done(case, "material_review")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion")
    decision = flow.done(case, "decision")
    flow.move(case, "service")
    flow.serve(case, decision)
    late = flow.record(case, "onsite_inspection_record")  # tagged investigation, made now
    assert late["stage"] == "investigation"
    flow.move(case, "archiving")
    assert flow.missing(case, "closed") == ["A13.2", "A32.1", "A5.1"]
    flow.sign_all(case, late)
    flow.av(case, late["id"])
    flow.archive(case)
    flow.move(case, "closed")


def test_acceptance_counter_surveillance_is_linked(flow):
    """A9.1, A9.2: counter surveillance footage is evidence linked to the acceptance record;
    the record's status lists it; the acceptance is signed by officer and applicant."""
    case = flow.open(kind="licensing", initiation="application")
    acceptance = flow.record(case, "application_acceptance",
                             surveillance_evidence="受理窗口2号监控 09:00-09:20")
    video = flow.av(case, acceptance["id"], "video/mp4", proves="受理窗口实时监控录像")
    status = flow.get(f"/api/v1/cases/{case['id']}/records/{acceptance['id']}/status")
    assert [e["id"] for e in status["evidence"]] == [video]
    assert [m["rule"] for m in status["missing"]] == ["A13.2", "A13.2"]


def test_interrupted_recording_is_reported_and_explained(flow):
    """A17.2: a recording that cannot continue needs the time it was reported to the head; it
    opens the written-explanation deadline, and the case cannot close without the explanation."""
    case = _investigating(flow)
    flow.record(case, "av_interruption", reason="battery", interrupted_at=flow.clock.iso(),
                can_continue=False, expect=422)
    stop = flow.done(case, "av_interruption", reason="battery",
                     interrupted_at=flow.clock.iso(minutes=-10), can_continue=False,
                     reported_to_head_at=flow.clock.iso(minutes=-5))
    resumed = flow.done(case, "av_interruption", reason="weather",
                        interrupted_at=flow.clock.iso(minutes=-3), can_continue=True,
                        resumed_at=flow.clock.iso(minutes=-1), voice_explained=True)
    assert resumed["stage"] == "investigation"
    deadlines = flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
    assert [d["status"] for d in deadlines if d["rule_id"] == "A17.2"] == ["open"]
    checklist = flow.checklist(case)["archiving"]
    assert {"id": "A17.2", "status": "missing"}.items() <= next(
        i for i in checklist if i["id"] == "A17.2").items()
    flow.done(case, "interruption_explanation", interruption_id=stop["id"],
              explanation="电池耗尽，备用电池未充电，已整改")
    deadlines = flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
    assert [d["status"] for d in deadlines if d["rule_id"] == "A17.2"] == ["closed"]
    assert next(i for i in flow.checklist(case)["archiving"]
                if i["id"] == "A17.2")["status"] == "done"


def test_head_is_alerted_at_once_when_a_recording_cannot_continue(flow):
    """A17.2: "cannot continue" queues an immediate alert to the head in the same transaction,
    once per head and channel, naming the case and the reason."""
    from sqlalchemy import select

    from core.notices.models import OutboxMessage

    case = _investigating(flow)
    stop = flow.done(case, "av_interruption", reason="storage",
                     interrupted_at=flow.clock.iso(minutes=-10), can_continue=False,
                     reported_to_head_at=flow.clock.iso(minutes=-5))
    with flow.container.uow() as uow:
        alerts = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.case_id == case["id"])).scalars().all()
        alerts = [m for m in alerts if m.payload.get("event") == "alert.av_interrupted"]
    head = flow.people["head"]
    assert [(m.officer_id, m.channel) for m in alerts] == [(head["id"], "socketio")]
    assert alerts[0].payload["record_id"] == stop["id"]
    assert case["number"] in alerts[0].body and "存储空间不足" in alerts[0].body

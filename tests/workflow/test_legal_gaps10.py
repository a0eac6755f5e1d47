"""Issue 10, the gaps left after the first pass (legal10): licensing excluded time and
hearing (N17, N30), the A7.1 system test, N31's parts, hearing termination (Art. 64(8)), the
head's refusal of an emergency measure (N12) and Art. 24's on-the-spot handover (N13). Each
test names its RULES.md ID and the legal example it proves."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.rules.deadline_rules import RULES

SH = ZoneInfo("Asia/Shanghai")
PENALTY_FIELDS = {"penalty_types": ["fine"], "fine_amount_yuan": 200000, "hearing_right": True}


def _in_decision(flow):
    case = flow.filed()
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    return case


def _deadlines(flow, case) -> list[dict]:
    return flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]


def test_a13_1_n5_termination_names_the_latest_notice_after_its_hearing_time(flow, clock):
    """A13.1, N5 (行政处罚法 Art. 64(8)): a hearing set for 2026-11-02 is moved to 2026-11-16
    by a second notice; a termination "absent without reason" naming the first notice is
    refused (the party was told of the second), one recorded on 2026-11-10 before the second
    notice's hearing time is refused, and one on 2026-11-16 after 09:30 ends the hearing."""
    clock.set(datetime(2026, 10, 12, 9, 0, tzinfo=SH))
    case = _in_decision(flow)
    flow.done(case, "handling_opinion")
    notice = flow.done(case, "rights_notice", **PENALTY_FIELDS)
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    flow.done(case, "hearing_request")
    first = flow.done(case, "hearing_notice",
                      hearing_at=datetime(2026, 11, 2, 9, 30, tzinfo=SH).isoformat())
    flow.serve(case, first)
    clock.set(datetime(2026, 10, 20, 9, 0, tzinfo=SH))
    second = flow.done(case, "hearing_notice",
                       hearing_at=datetime(2026, 11, 16, 9, 30, tzinfo=SH).isoformat())
    flow.serve(case, second)
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=SH))
    err = flow.record(case, "hearing_termination", expect=409, hearing_notice_id=first["id"],
                      reason="absent_without_reason", details="当事人未到场")["error"]
    assert err["missing"] == ["N5"] and second["id"] in err["message"]
    clock.set(datetime(2026, 11, 10, 10, 0, tzinfo=SH))
    err = flow.record(case, "hearing_termination", expect=409, hearing_notice_id=second["id"],
                      reason="absent_without_reason", details="当事人未到场")["error"]
    assert err["missing"] == ["A13.1"]
    assert "A13.1" in flow.record(case, "decision", expect=409)["error"]["missing"]
    clock.set(datetime(2026, 11, 16, 10, 0, tzinfo=SH))
    flow.done(case, "hearing_termination", hearing_notice_id=second["id"],
              reason="absent_without_reason", details="当事人无正当理由未到场")
    flow.record(case, "decision")  # the hearing ended by the absence (Art. 64(8))


def _rules_md_ids() -> set[str]:
    import pytest

    from tests import check_rule_coverage
    ids, source = check_rule_coverage.all_ids()
    if source is None:
        pytest.skip("neither ../shared/mission/RULES.md nor an embedded ID list is available")
    return set(ids)


def test_n31_withdrawal_is_a_part_of_n31_and_only_rules_md_ids_are_listed(client):
    """N31 (行政处罚法 Art. 48; RULES.md numbers N31 as one row with two figures, 7 and 3
    working days): the withdrawal figure is a part of N31 (key N31:withdrawal), not an ID of its
    own; every ID the deadline table, the record-type catalogue, GET /api/v1/rules and the code
    name is a RULES.md ID, and a docstring naming a sub-number of N31 does not count for N31."""
    import re
    from pathlib import Path

    from core.rules.catalogue import CATALOGUE
    from tests import check_rule_coverage
    known = _rules_md_ids()
    named = {i for r in RULES for i in r.ids}
    named |= {i for t in CATALOGUE for i in (*t.rules, t.av_rule, t.sign_rule,
                                             *(r for f in t.fields for r in f.rules))}
    listed = client.get("/api/v1/rules").get_json()["rules"]
    named |= {r["id"] for r in listed}
    assert named <= known, sorted(named - known)
    n13 = next(r for r in listed if r["id"] == "N13")
    assert n13["settings"]["SEIZURE_HANDOVER_HOURS"] == 4 and "⚠" in n13["settings"]["warning"]
    n31 = next(r for r in listed if r["id"] == "N31")
    assert n31["figure"] == 7 and [p["part"] for p in n31["parts"]] == ["withdrawal"]
    assert n31["parts"][0]["figure"] == 3 and n31["parts"][0]["warning"] is True
    root = Path(__file__).resolve().parents[2]
    token = re.compile(r"\b(?:A\d+\.\d+|N\d+)(?:\.\d+)*\b")
    for front in ("core", "api", "bot", "notifications", "worker", "capture"):
        for path in (root / front).rglob("*.py"):
            found = set(token.findall(path.read_text(encoding="utf-8"))) - known
            assert not found, (str(path), sorted(found))
    assert check_rule_coverage.ANY_ID.findall("N31.2, A9.10 and (N31).") == \
        ["N31.2", "A9.10", "N31"]
    assert not check_rule_coverage.unknown_named(sorted(known))


def test_a7_1_every_record_the_rules_name_is_kept_digitally(client):
    """A7.1 (实施细则第七条: equip and digitise; "the system itself"): every written record
    Art. 4 and Art. 13 name — 询问笔录, 调取证据通知书, 证据登记保存清单, 现场检查(勘验)笔录,
    抽样取证通知书 with its 物品清单, 陈述申辩权利告知书 and 笔录, 听证笔录 and 听证报告,
    鉴定意见书, 专家论证意见, the internal approval form (审批表) and the 送达回证 — is a
    digital record type of GET /api/v1/record-types; each of the six kinds of A2.1 can be
    recorded; and AV (photo, audio, video) is accepted as evidence of a record."""
    types = client.get("/api/v1/record-types").get_json()["record_types"]
    titles = [t["title_zh"] for t in types]
    for named in ("询问笔录", "调取证据通知书", "证据登记保存清单", "现场检查(勘验)笔录",
                  "抽样取证通知书", "抽样物品清单", "陈述申辩权利告知书", "陈述申辩笔录",
                  "听证笔录", "听证报告", "鉴定意见书", "专家论证意见", "审批表", "送达回证"):
        assert any(named in t for t in titles), named
    for kind in ("licensing", "penalty", "coercion", "levy", "fee", "inspection"):
        assert [t for t in types if t["kinds"] is None or kind in t["kinds"]], kind
    av = {m for t in types if t["av"] for m in t["av"]["media"]}
    assert {"video/", "audio/", "image/"} <= av


def _licensing(flow, clock, at: datetime) -> dict:
    clock.set(at)
    case = flow.open(kind="licensing", initiation="application", title="建筑工程施工许可")
    flow.done(case, "application_acceptance")
    flow.move(case, "investigation")
    return case


def test_n17_n30_excluded_time_pauses_and_moves_the_licensing_clock(flow, clock):
    """N17, N30 (行政许可法 Art. 42, 45): an application accepted 2026-09-01 is decided within 20
    working days, by 2026-09-29 (Mid-Autumn 09-25 skipped, 09-20 worked); expert review from
    2026-09-08 10:00 to 2026-09-14 16:00, told to the applicant in writing, is not counted:
    the clock pauses (its deadline row cancelled), and resumes with its 5 working days
    (09-08..09-11, 09-14) left out, so the last day moves to 2026-10-12 (National Day
    10-01..10-07 skipped, 10-10 a 调休 working Saturday). A start not told in writing, a
    second start while one runs, and an end before its start are refused."""
    case = _licensing(flow, clock, datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    rows = [d for d in _deadlines(flow, case) if d["rule_id"] == "N17"]
    assert [(d["status"], d["last_day"]) for d in rows] == [("open", "2026-09-29")]
    clock.set(datetime(2026, 9, 8, 10, 0, tzinfo=SH))
    start = {"activity": "expert_review", "started_at": clock.iso(), "reason": "结构安全专家评审",
             "institution": "岳阳市建设工程专家库", "expected_days": 5,
             "applicant_told_in_writing": False}
    err = flow.record(case, "licensing_excluded_time", fields=start, expect=409)["error"]
    assert err["missing"] == ["N30"]
    notice = flow.done(case, "licensing_excluded_time",
                       fields={**start, "applicant_told_in_writing": True})
    flow.serve(case, notice)
    rows = [d for d in _deadlines(flow, case) if d["rule_id"] == "N17"]
    assert [d["status"] for d in rows] == ["cancelled"]
    assert rows[0]["closed_by"].startswith(f"paused: {notice['id']}")
    assert rows[0]["reminders"] and {r["status"] for r in rows[0]["reminders"]} == {"cancelled"}
    assert flow.record(case, "licensing_excluded_time", fields={
        **start, "applicant_told_in_writing": True}, expect=409)["error"]["missing"] == ["N30"]
    clock.set(datetime(2026, 9, 14, 16, 0, tzinfo=SH))
    end = {"excluded_id": notice["id"], "ended_at": "2026-09-07T10:00:00+08:00",
           "result": "专家评审意见：结构安全"}
    flow.record(case, "licensing_excluded_time_end", fields=end, expect=422)
    flow.done(case, "licensing_excluded_time_end", fields={**end, "ended_at": clock.iso()})
    rows = [d for d in _deadlines(flow, case) if d["rule_id"] == "N17"]
    open_rows = [d for d in rows if d["status"] == "open"]
    assert len(rows) == 2 and len(open_rows) == 1
    assert open_rows[0]["last_day"] == "2026-10-12"
    assert any("5 working days not counted" in w for w in open_rows[0]["warnings"])
    assert flow.record(case, "licensing_excluded_time_end", fields={
        **end, "ended_at": clock.iso()}, expect=409)["error"]["missing"] == ["N30"]


def test_n30_licensing_hearing_request_notice_host_and_decision(flow, clock, people):
    """N30 (行政许可法 Art. 47–48, kept under N30): the right notice served 2026-09-02 leaves
    the applicant 5 working days (to 2026-09-09) to ask for a hearing; a request before the
    right was told, or dated 09-10, is refused; a request on 09-04 obliges a hearing within 20
    working days (by 2026-10-09: 09-20 worked, Mid-Autumn and National Day skipped), noticed
    7 working days before (Art. 48(1)(1)), hosted by someone who did not review the
    application (Art. 48(1)(3)); the decision waits for the hearing record (Art. 48(2)); the
    deadlines table shows the request period closed and the hearing period open until the
    hearing is recorded."""
    case = _licensing(flow, clock, datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    flow.done(case, "material_review")
    clock.set(datetime(2026, 9, 2, 10, 0, tzinfo=SH))
    flow.move(case, "decision")
    assert flow.record(case, "hearing_request", expect=409,
                       requested_at=clock.iso())["error"]["missing"] == ["N30"]
    right = flow.done(case, "licensing_hearing_right_notice", fields={
        "recipients": ["岳阳某置业有限公司", "相邻住户 王某"], "matter": "施工许可涉及相邻采光权",
        "basis": "major_interests_art47"})
    flow.serve(case, right)
    period = next(d for d in _deadlines(flow, case) if d["part"] == "hearing_request")
    assert period["rule_id"] == "N30" and period["last_day"] == "2026-09-09"
    clock.set(datetime(2026, 9, 10, 10, 0, tzinfo=SH))
    assert flow.record(case, "hearing_request", expect=409,
                       requested_at=clock.iso())["error"]["missing"] == ["N30"]
    flow.done(case, "hearing_request",
              requested_at=datetime(2026, 9, 4, 9, 0, tzinfo=SH).isoformat())
    rows = {d["part"]: d for d in _deadlines(flow, case) if d["rule_id"] == "N30"}
    assert rows["hearing_request"]["status"] == "closed"
    assert rows["hearing_held"]["last_day"] == "2026-10-09"
    reviewer = people["officer"]["name"]
    too_late = datetime(2026, 10, 10, 9, 30, tzinfo=SH).isoformat()
    assert flow.record(case, "hearing_notice", expect=409, host="赵听证",
                       hearing_at=too_late)["error"]["missing"] == ["N30"]
    hearing_at = datetime(2026, 9, 28, 9, 30, tzinfo=SH).isoformat()
    assert flow.record(case, "hearing_notice", expect=409, host=reviewer,
                       hearing_at=hearing_at)["error"]["missing"] == ["N30"]
    assert flow.record(case, "hearing_notice", expect=409, host="赵听证",
                       hearing_at=datetime(2026, 9, 15, 9, 30, tzinfo=SH).isoformat()
                       )["error"]["missing"] == ["N30"]  # not 7 working days before
    notice = flow.done(case, "hearing_notice", host="赵听证", hearing_at=hearing_at)
    flow.serve(case, notice)
    assert "A13.1" in flow.record(case, "decision", expect=409)["error"]["missing"]
    clock.set(datetime(2026, 9, 28, 11, 0, tzinfo=SH))
    flow.done(case, "hearing_record", host="赵听证", av=True)
    flow.done(case, "hearing_report", host="赵听证")
    rows = {d["part"]: d for d in _deadlines(flow, case) if d["rule_id"] == "N30"}
    assert rows["hearing_held"]["status"] == "closed"
    assert rows["hearing_notice"]["status"] == "closed"
    err = flow.record(case, "decision", expect=409)["error"]
    assert "A13.1" not in err["missing"] and "N30" not in err["missing"]


def test_n30_licensing_decision_waits_for_the_hearing_request_period(flow, clock):
    """N30 (行政许可法 Art. 47): the right notice served 2026-09-02 → the licensing decision
    waits until the 5 working days end (2026-09-09, the whole day) unless the hearing is
    waived: refused on 09-03 and at 09-09 23:00 for N30, no longer for N30 at 09-10 00:05."""
    case = _licensing(flow, clock, datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    flow.done(case, "material_review")
    clock.set(datetime(2026, 9, 2, 10, 0, tzinfo=SH))
    flow.move(case, "decision")
    right = flow.done(case, "licensing_hearing_right_notice", fields={
        "recipients": ["岳阳某置业有限公司"], "matter": "施工许可涉及相邻采光权",
        "basis": "major_interests_art47"})
    flow.serve(case, right)
    for at in (datetime(2026, 9, 3, 10, 0, tzinfo=SH), datetime(2026, 9, 9, 23, 0, tzinfo=SH)):
        clock.set(at)
        assert "N30" in flow.record(case, "decision", expect=409)["error"]["missing"]
    clock.set(datetime(2026, 9, 10, 0, 5, tzinfo=SH))
    r = flow.post(f"/api/v1/cases/{case['id']}/records",
                  {"type": "decision", "fields": flow.fields("decision"),
                   "occurred_at": clock.iso()})
    assert r.status_code == 201 or "N30" not in r.get_json()["error"]["missing"]


MEASURE = {"measure": "impound", "place": "岳阳市岳阳楼区某路1号工地",
           "objects": ["挖掘机 1 台"], "certificates_shown": True, "party_present": True,
           "reasons_told": True, "rights_told": True, "statement": "设备系租用"}


def _coercion(flow, clock, at: datetime) -> dict:
    clock.set(at)
    case = flow.open(kind="coercion")
    flow.done(case, "filing_form")
    flow.move(case, "investigation")
    return case


def _measure(flow, case, **over) -> dict:
    fields = {**MEASURE, "emergency": True,
              "applied_at": flow.clock.now().replace(microsecond=0).isoformat(), **over}
    rec = flow.record(case, "coercive_measure_record", fields)
    flow.sign_all(case, rec)
    return rec


def _n13_on_spot_detail(flow, case) -> list[str]:
    items = flow.checklist(case)["investigation"]
    return [d for i in items if i["id"] == "N13" and i["status"] == "missing"
            for d in i.get("detail", [])]


def _handover(flow, case, measure, **reason) -> None:
    decision = flow.done(case, "seizure_decision", fields={
        "measure_id": measure["id"], "reasons_and_basis": "建筑法第六十四条",
        "objects": ["挖掘机 1 台"], "period_days": 30,
        "remedy": "六十日内申请行政复议或六个月内起诉", **reason})
    flow.serve(case, decision)
    flow.done(case, "seizure_list", fields={"measure_id": measure["id"], **reason,
                                            "objects": ["挖掘机 1 台"], "kept_at": "扣押物品库"})


def test_n13_art24_decision_and_list_handed_over_during_the_site_visit(flow, clock):
    """N13 (行政强制法 Art. 24, 当场交付): an excavator impounded 2026-09-01 09:00 with the
    on-site record running to 10:30; a decision and list handed over at 10:00 are on the spot;
    handed over at 17:00 the same day they are not (the old same-legal-day check passed
    them); the same at 17:00 with a recorded reason (the party left the site) is accepted; a
    record without an end time allows SEIZURE_HANDOVER_HOURS (⚠ 4 by default): 12:30 is on
    the spot, 13:30 is not."""
    case = _coercion(flow, clock, datetime(2026, 9, 1, 8, 0, tzinfo=SH))
    clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=SH))
    m1 = _measure(flow, case, site_ended_at="2026-09-01T10:30:00+08:00")
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    _handover(flow, case, m1)
    assert not [d for d in _n13_on_spot_detail(flow, case) if m1["id"] in d]

    clock.set(datetime(2026, 9, 2, 9, 0, tzinfo=SH))
    m2 = _measure(flow, case, site_ended_at="2026-09-02T10:30:00+08:00")
    clock.set(datetime(2026, 9, 2, 17, 0, tzinfo=SH))
    _handover(flow, case, m2)
    late = [d for d in _n13_on_spot_detail(flow, case) if m2["id"] in d]
    assert len(late) == 2 and all("未在现场" in d for d in late)
    assert "N13" in flow.missing(case, "decision")

    clock.set(datetime(2026, 9, 3, 9, 0, tzinfo=SH))
    m3 = _measure(flow, case, site_ended_at="2026-09-03T10:30:00+08:00")
    clock.set(datetime(2026, 9, 3, 17, 0, tzinfo=SH))
    _handover(flow, case, m3, not_on_spot_reason="当事人中途离开现场，下午到局领取")
    assert not [d for d in _n13_on_spot_detail(flow, case) if m3["id"] in d]

    clock.set(datetime(2026, 9, 4, 9, 0, tzinfo=SH))
    m4 = _measure(flow, case)
    clock.set(datetime(2026, 9, 4, 12, 30, tzinfo=SH))
    _handover(flow, case, m4)
    assert not [d for d in _n13_on_spot_detail(flow, case) if m4["id"] in d]
    clock.set(datetime(2026, 9, 5, 9, 0, tzinfo=SH))
    m5 = _measure(flow, case)
    clock.set(datetime(2026, 9, 5, 13, 30, tzinfo=SH))
    _handover(flow, case, m5)
    assert len([d for d in _n13_on_spot_detail(flow, case) if m5["id"] in d]) == 2


def test_n12_head_refusing_an_emergency_measure_forces_its_release(flow, clock, people,
                                                                   container):
    """N12 (行政强制法 Art. 19: "行政机关负责人认为不应当采取行政强制措施的，应当立即解除"): an
    excavator impounded in an emergency 2026-09-01 21:00; the head returns the after-the-fact
    approval at 2026-09-02 09:30 (not to be taken); at once the officers and the supervisor get
    an alert in the outbox, N12's release part is due by 11:30 (2 clock hours ⚠), every other
    record on the measure (its decision, list, extension, a second approval) is refused, and
    the release decision is accepted and closes the release deadline."""
    from sqlalchemy import select

    from core.notices.models import OutboxMessage
    from tests.helpers import approve
    case = _coercion(flow, clock, datetime(2026, 9, 1, 20, 0, tzinfo=SH))
    clock.set(datetime(2026, 9, 1, 21, 0, tzinfo=SH))
    measure = _measure(flow, case)
    clock.set(datetime(2026, 9, 2, 9, 30, tzinfo=SH))
    approval_fields = {"measure": "impound", "reasons": "违法施工，设备可能被转移",
                       "objects": ["挖掘机 1 台"], "officer_opinion": "建议扣押",
                       "measure_id": measure["id"]}
    form = flow.record(case, "coercive_measure_approval", fields=approval_fields)
    flow.sign_all(case, form)
    r = approve(flow.client, people["head"], case["id"], form["id"], decision="return",
                opinion="违法事实不清，不应当扣押")
    assert r.status_code == 201, r.get_json()
    with container.uow() as uow:
        rows = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.case_id == case["id"])).scalars().all()
        alerted = {(m.payload or {}).get("role") for m in rows
                   if (m.payload or {}).get("event") == "alert.measure_refused"
                   and (m.payload or {}).get("measure_id") == measure["id"]}
    assert alerted == {"officer", "supervisor"}
    release_row = next(d for d in _deadlines(flow, case)
                       if d["rule_id"] == "N12" and d["part"] == "release")
    assert release_row["due_at"].startswith("2026-09-02T11:30:00")
    assert release_row["status"] == "open"
    for rtype, fields in (
            ("seizure_decision", {"measure_id": measure["id"], "reasons_and_basis": "x",
                                  "objects": ["挖掘机 1 台"], "period_days": 30, "remedy": "x"}),
            ("seizure_list", {"measure_id": measure["id"], "objects": ["挖掘机 1 台"],
                              "kept_at": "扣押物品库"}),
            ("coercive_measure_approval", approval_fields)):
        err = flow.record(case, rtype, fields=fields, expect=409)["error"]
        assert err["missing"] == ["N12"], rtype
    assert any("不予批准" in d for i in flow.checklist(case)["investigation"]
               if i["id"] == "N12" for d in i.get("detail", []))
    clock.set(datetime(2026, 9, 2, 10, 0, tzinfo=SH))
    release = flow.done(case, "seizure_release_decision", fields={
        "measure_id": measure["id"], "release_reason": "not_approved",
        "reason_detail": "负责人不予批准", "objects_returned": ["挖掘机 1 台"]})
    flow.serve(case, release)
    release_row = next(d for d in _deadlines(flow, case)
                       if d["rule_id"] == "N12" and d["part"] == "release")
    assert release_row["status"] == "closed" and release_row["late"] is False

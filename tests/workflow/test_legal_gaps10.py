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

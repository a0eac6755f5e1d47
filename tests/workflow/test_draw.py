"""The random inspection draw (A12.1): committed before, seeded by nobody alone, re-runnable by
anyone from the record, with recorded re-draws for recusals (A14.1)."""

from __future__ import annotations

import hashlib
import json

OBJECTS = [f"在建工程{i:02d}" for i in range(1, 21)]


def independent_pick(items, k, seed, label):
    """The documented algorithm, written again from core/draw.py's docstring alone."""
    def numbers():
        counter = 0
        while True:
            block = hashlib.sha256(f"{seed}:{label}:{counter}".encode()).digest()
            for i in range(4):
                yield int.from_bytes(block[8 * i:8 * i + 8], "big")
            counter += 1
    stream, pool = numbers(), list(items)
    for i in range(k):
        n = len(pool) - i
        x = next(stream)
        while x >= 2**64 - 2**64 % n:
            x = next(stream)
        j = i + x % n
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def _sha(items) -> str:
    return hashlib.sha256(json.dumps(items, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


def _draw(flow, case, commitment, officers, outside="2026112601 上证指数收盘 3421.57",
          expect=201, **over):
    body = {"commitment_record_id": commitment["record_id"], "outside_value": outside,
            "sampling_method": "双随机", "objects_register": OBJECTS, "objects_count": 3,
            "officers_register": officers, "officers_count": 2, **over}
    r = flow.post(f"/api/v1/cases/{case['id']}/draws", body)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def _setup(flow):
    case = flow.open(kind="inspection", initiation="inspection", title="双随机抽查")
    r = flow.post(f"/api/v1/cases/{case['id']}/draws/commitments", {})
    assert r.status_code == 201
    officers = [flow.people[n]["id"] for n in ("张伟", "李娜", "王强", "刘洋")]
    return case, r.get_json(), officers


def test_draw_is_committed_seeded_jointly_and_reproducible(flow):
    """A12.1: the commitment is published first; the draw reveals a nonce that hashes to it;
    the seed, register hashes and result are re-computed by an independent implementation."""
    case, commitment, officers = _setup(flow)
    assert len(commitment["commitment"]) == 64 and "nonce" not in commitment
    drawn = _draw(flow, case, commitment, officers)
    nonce = drawn["nonce"]
    assert hashlib.sha256(bytes.fromhex(nonce)).hexdigest() == commitment["commitment"]
    assert drawn["objects_register_sha256"] == _sha(OBJECTS)
    assert drawn["officers_register_sha256"] == _sha(officers)
    seed = hashlib.sha256("\x00".join(["quancheng-draw-v1", nonce, drawn["outside_value"],
                                       _sha(OBJECTS), _sha(officers)]).encode()).hexdigest()
    assert drawn["seed"] == seed
    assert drawn["drawn_objects"] == independent_pick(OBJECTS, 3, seed, "objects")
    assert drawn["drawn_officers"] == independent_pick(officers, 2, seed, "officers")
    assert drawn["algorithm"] == "sha256-counter partial Fisher–Yates v1"
    check = flow.get(f"/api/v1/cases/{case['id']}/draws/{drawn['record_id']}/verify")
    assert check["match"] is True
    # One commitment, one draw: the outside value cannot be retried until it suits.
    _draw(flow, case, commitment, officers, outside="another value", expect=409)


def test_draw_inputs_are_checked(flow):
    """A12.1, A14.1: an outside value is required, officers must be certified officers of the
    department, at least two are drawn, and registers list each entry once."""
    case, commitment, officers = _setup(flow)
    err = _draw(flow, case, commitment, officers, outside="", expect=422)["error"]
    assert err["missing"] == ["A12.1"]
    from core.people.officers import add_officer, ensure_department

    with flow.container.uow() as uow:
        dept = ensure_department(uow.session, "YYZJ", "")
        trainee = add_officer(uow.session, dept, "实习生", ["officer"])  # no certificate
    err = _draw(flow, case, commitment, [*officers, trainee.id], expect=422)["error"]
    assert err["missing"] == ["A14.1"]
    _draw(flow, case, commitment, officers, officers_count=1, expect=422)
    _draw(flow, case, commitment, officers, objects_register=["A", "A"], expect=422)
    _draw(flow, case, commitment, officers, objects_count=21, expect=422)
    flow.record(case, "inspection_draw", fields={}, expect=422)  # only through the draw


def test_recused_officer_is_replaced_by_a_recorded_redraw(flow):
    """A12.1, A14.1: a recusal re-draws one officer from those not drawn, with a derived
    stream; the new draw record corrects the old one and still verifies."""
    case, commitment, officers = _setup(flow)
    drawn = _draw(flow, case, commitment, officers)
    recused = drawn["drawn_officers"][0]
    r = flow.post(f"/api/v1/cases/{case['id']}/draws/{drawn['record_id']}/recusals",
                  {"officer_id": recused, "reason": "与当事人有亲属关系"})
    assert r.status_code == 201, r.get_json()
    again = r.get_json()
    assert again["corrects"] == drawn["record_id"]
    pool = [o for o in officers if o not in drawn["drawn_officers"]]
    replacement = independent_pick(pool, 1, drawn["seed"], "redraw:1")[0]
    assert again["replacement_officers"] == [replacement]
    assert again["drawn_officers"] == [replacement, drawn["drawn_officers"][1]]
    assert again["recusal_reasons"] == ["与当事人有亲属关系"]
    check = flow.get(f"/api/v1/cases/{case['id']}/draws/{again['record_id']}/verify")
    assert check["match"] is True
    r = flow.post(f"/api/v1/cases/{case['id']}/draws/{drawn['record_id']}/recusals",
                  {"officer_id": recused, "reason": "x"})
    assert r.status_code == 409  # the old draw is superseded
    records = flow.get(f"/api/v1/cases/{case['id']}/records")["records"]
    assert [(x["type"], x["superseded"]) for x in records if x["type"] == "inspection_draw"] \
        == [("inspection_draw", True), ("inspection_draw", False)]


def test_a_changed_record_no_longer_verifies(flow):
    """A12.1: the verification compares the re-run with the record, so an edited result fails."""
    from core.cases.draw import verify

    case, commitment, officers = _setup(flow)
    drawn = _draw(flow, case, commitment, officers)
    fields = {k: v for k, v in drawn.items() if k != "record_id"}
    assert verify(fields)["match"] is True
    other = [o for o in OBJECTS if o not in fields["drawn_objects"]][:3]
    assert verify({**fields, "drawn_objects": other})["match"] is False
    assert verify({**fields, "nonce": "00" * 32})["match"] is False

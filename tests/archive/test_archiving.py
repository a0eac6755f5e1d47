"""The case file after the act (A32.1, A33.1, A34.1): the act's end opens the 20-day clock, the
dossier is built as a job through the API, a custodian accepts it (closing the clock and
opening the way to `closed`), a later record makes a supplementary volume, every use is
registered and every download logged, and the database refuses to delete or rewrite what
was archived."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.archive.models import ActEnd
from core.cases.periods import load_calendar
from core.deadlines.models import Deadline
from core.dossier.verify import verify_bag
from core.people.models import AccessLog
from core.platform.uow import Event
from core.rules.calendar import LEGAL_TZ, end_of_legal_day
from core.rules.deadline_rules import compute_due, rule_table
from tests.dossier.conftest import play_penalty_case
from tests.helpers import auth

pytestmark = pytest.mark.slow


def _a32(container, case_id):
    with container.uow() as uow:
        return uow.session.execute(select(Deadline).where(
            Deadline.case_id == case_id, Deadline.rule_id == "A32.1")).scalar_one()


def _download(flow, dossier_id, user, path):
    r = flow.client.get(f"/api/v1/dossiers/{dossier_id}/bag", headers=auth(user))
    assert r.status_code == 200
    path.write_bytes(r.get_data())
    r.close()
    return path


def test_a32_1_act_end_build_archive_supplement_use_and_close(flow, container, app, tmp_path,
                                                             people):
    """A32.1, A33.1, A34.1: the whole afterlife of one penalty case."""
    case = play_penalty_case(flow, tmp_path)
    # The record that ended the act raised act.ended (core.cases.act_end); the case file
    # stores that end, and A32.1 runs 20 calendar days from it, the start day not counted.
    with container.uow() as uow:
        end = uow.session.execute(select(ActEnd).where(ActEnd.case_id == case["id"])
                                  ).scalar_one()
        ended, reason = end.ended_at, end.reason
        rule = rule_table(uow.settings).rule_for("A32.1")
        expected = compute_due(rule, ended, load_calendar(uow.session)).due
    assert reason in ("execution_completed", "decision_served")
    clock_row = _a32(container, case["id"])
    assert (clock_row.status, clock_row.period, clock_row.due_at) == ("open", 20, expected)
    assert clock_row.trigger_at == ended
    assert clock_row.due_at >= end_of_legal_day(ended.astimezone(LEGAL_TZ).date(), LEGAL_TZ)
    # A second end (another ending record) neither moves the stored end nor opens a clock.
    with container.uow() as uow:
        uow.emit(Event("act.ended", case["id"], flow.clock.now(),
                       {"reason": "court_result", "subject_id": case["id"]}))
    assert _a32(container, case["id"]).id == clock_row.id

    # Closing waits for the custodian's acceptance.
    assert flow.missing(case, "closed") == ["A32.1"]
    # Volume 1 from the command line, with its progress bars; volume 2 below through the API.
    out = tmp_path / "cli.zip"
    built = app.test_cli_runner().invoke(args=["dossier", "build", case["number"],
                                               "--out", str(out)])
    assert built.exit_code == 0, built.output
    assert "证据原件 evidence" in built.output and "文书页面 documents" in built.output
    [vol] = flow.get(f"/api/v1/cases/{case['id']}/dossiers")["dossiers"]
    assert vol["bag_sha256"] in built.output and verify_bag(str(out)).ok
    assert (vol["volume"], vol["kind"], vol["archived"]) == (1, "volume", None)
    assert vol["pdf_variant"] == "pdf/a-2b" and vol["archival_pdf"] is True
    bag = _download(flow, vol["id"], flow.officer, tmp_path / "v1.zip")
    assert verify_bag(str(bag)).ok

    # Only a custodian accepts (A33.1); the acceptance closes A32.1 in time.
    r = flow.post(f"/api/v1/dossiers/{vol['id']}/archive", {})
    assert r.status_code == 403
    r = flow.post(f"/api/v1/dossiers/{vol['id']}/archive", {"location": "档案室 A-1"},
                  flow.custodian())
    assert r.status_code == 201, r.get_json()
    clock_row = _a32(container, case["id"])
    assert (clock_row.status, clock_row.closed_by) == ("closed", "dossier.archived")
    assert clock_row.closed_at <= clock_row.due_at

    # A34.1: the database itself refuses to delete or rewrite the archived case.
    for sql in ("DELETE FROM records WHERE case_id = :c",
                "UPDATE cases SET title = 'x' WHERE id = :c",
                "DELETE FROM dossier_archivals WHERE case_id = :c",
                "UPDATE dossiers SET size = 0 WHERE case_id = :c"):
        with pytest.raises(DBAPIError, match="A34.1"), container.engine.begin() as conn:
            conn.execute(text(sql), {"c": case["id"]})

    # A record made after archiving goes into a supplementary volume, never a rewrite.
    flow.done(case, "compliance_record", decision_id=_decision_id(flow, case), fine_paid=True)
    job2 = flow.build_dossier(case)
    assert job2["phase"] == "seal" and job2["done"] == job2["total"]
    vols = flow.get(f"/api/v1/cases/{case['id']}/dossiers")["dossiers"]
    assert [(v["volume"], v["kind"]) for v in vols] == [(1, "volume"), (2, "supplement")]
    assert vols[0]["bag_sha256"] == vol["bag_sha256"] and vols[1]["documents"] == 1
    bag2 = _download(flow, job2["dossier_id"], flow.officer, tmp_path / "v2.zip")
    report = verify_bag(str(bag2))
    assert report.ok, report.text()
    cli = app.test_cli_runner().invoke(args=["dossier", "verify", str(bag2)])
    assert cli.exit_code == 0, cli.output
    r = flow.post(f"/api/v1/dossiers/{job2['dossier_id']}/archive", {}, flow.custodian())
    assert r.status_code == 201
    flow.move(case, "closed")

    # A33.1: the use register and the access log.
    custodian = flow.custodian()
    r = flow.post(f"/api/v1/dossiers/{vol['id']}/uses", {"user_name": "市司法局 复议科 孙某",
                                                        "purpose": "行政复议调阅"}, custodian)
    assert r.status_code == 422  # no approval
    r = flow.post(f"/api/v1/dossiers/{vol['id']}/uses", {
        "user_name": "市司法局 复议科 孙某", "purpose": "行政复议调阅",
        "approved_by": people["head"]["id"]}, custodian)
    assert r.status_code == 201
    use_id = r.get_json()["id"]
    [line] = flow.get(f"/api/v1/cases/{case['id']}/dossier-uses")["uses"]
    assert line["returned_at"] is None and line["approved_by"] == people["head"]["id"]
    assert flow.post(f"/api/v1/dossier-uses/{use_id}/return", {}, custodian).status_code == 201
    [line] = flow.get(f"/api/v1/cases/{case['id']}/dossier-uses")["uses"]
    assert line["returned_at"] is not None
    with container.uow() as uow:
        logged = {(a.action, a.subject_id) for a in uow.session.execute(
            select(AccessLog).where(AccessLog.subject_type == "dossier")).scalars()}
    assert ("download", vol["id"]) in logged and ("export", case["id"]) in logged
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def _decision_id(flow, case) -> str:
    records = flow.get(f"/api/v1/cases/{case['id']}/records")["records"]
    return next(r["id"] for r in records if r["type"] == "decision")


def test_a32_1_cli_build_with_progress_and_stage_gate(flow, app, tmp_path):
    """A32.1: `flask dossier build` refuses a case whose act has not ended, in Chinese (the
    core's ``zh``) unless --lang en or QC_LANG=en asks for English, and builds one that has,
    printing its progress and the bag's hash."""
    case = flow.open()
    runner = app.test_cli_runner()
    early = runner.invoke(args=["dossier", "build", case["number"]])
    assert early.exit_code != 0 and "执法行为终结（归档阶段）后方可立卷（A32.1）" in early.output
    assert "archiving" not in early.output
    for english in ({"args": ["dossier", "build", case["number"], "--lang", "en"]},
                    {"args": ["dossier", "build", case["number"]], "env": {"QC_LANG": "en"}}):
        early = runner.invoke(**english)
        assert early.exit_code != 0 and "compiled once the act has ended" in early.output
    unknown = runner.invoke(args=["dossier", "build", "NOPE-2026-00001"])
    assert unknown.exit_code != 0 and "未找到案件 NOPE-2026-00001" in unknown.output
    r = flow.post(f"/api/v1/cases/{case['id']}/dossier", {})
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["A32.1"]

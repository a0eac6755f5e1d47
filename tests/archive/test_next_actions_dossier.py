"""A32.1 in the case's next actions (GET /cases/{id}): once the act has ended, "compile the
case file" for a case worker or the custodian; once a volume is built, "the custodian accepts
it"; after the acceptance nothing, until a record made later calls for a supplement."""

from __future__ import annotations

import pytest

from core.people.models import Department
from core.people.officers import add_officer, issue_token
from core.platform.uow import Event

pytestmark = pytest.mark.slow


def _auditor(container, people) -> dict:
    """An auditor of the department: sees the case, compiles nothing."""
    with container.uow() as uow:
        dept = uow.session.get(Department, people["department"]["id"])
        who = add_officer(uow.session, dept, "审计员", ["auditor"], None)
        return {"id": who.id, "token": issue_token(uow.session, who)}


def _bot_next_steps(container, case, user, lang="zh") -> str:
    """The bot's next-steps line (/checklist, /case) for the case."""
    from bot.views import next_steps
    from core.people.models import Officer

    with container.uow() as uow:
        return next_steps(uow, uow.session.get(Officer, user["id"]), case["id"], lang)


def _dossier_actions(flow, case, user) -> list[dict]:
    body = flow.get(f"/api/v1/cases/{case['id']}", user)
    return [a for a in body["next_actions"] if a["kind"] in ("build_dossier", "archive_dossier")]


def test_a32_1_next_actions_offer_the_build_then_the_custodians_acceptance(flow, container,
                                                                          people):
    """A32.1, A33.1: build offered from the act's end (to officers and the custodian, not to
    an auditor), then acceptance offered to the custodian only, then a supplement."""
    case = flow.open()
    custodian = flow.custodian()
    # The act has not ended: nothing to compile yet (the build itself would be refused).
    assert _dossier_actions(flow, case, flow.officer) == []
    with container.uow() as uow:
        uow.emit(Event("act.ended", case["id"], flow.clock.now(),
                       {"reason": "case_dropped", "subject_id": case["id"]}))

    [build] = _dossier_actions(flow, case, flow.officer)
    assert (build["kind"], build["method"], build["path"]) == (
        "build_dossier", "POST", f"/api/v1/cases/{case['id']}/dossier")
    assert build["requirements"] == ["A32.1"] and build["allowed"] is True
    assert "立卷" in build["text_zh"]
    # The bot tells the same step in a plain sentence, and who takes it.
    said = _bot_next_steps(container, case, flow.officer)
    assert f"下一步：{build['text_zh']}（办案人员或档案管理员" in said
    assert build["text"] in _bot_next_steps(container, case, flow.officer, "en")
    assert _dossier_actions(flow, case, custodian)[0]["allowed"] is True
    assert _dossier_actions(flow, case, _auditor(container, people))[0]["allowed"] is False

    # The offered request works: the act has ended, so the build is accepted in this stage.
    job = flow.build_dossier(case)
    [accept] = _dossier_actions(flow, case, custodian)
    assert (accept["kind"], accept["path"], accept["role"], accept["allowed"]) == (
        "archive_dossier", f"/api/v1/dossiers/{job['dossier_id']}/archive", "custodian", True)
    assert "A32.1" in accept["requirements"]
    assert f"下一步：{accept['text_zh']}（档案管理员" in _bot_next_steps(container, case,
                                                                   flow.officer)
    [seen_by_officer] = _dossier_actions(flow, case, flow.officer)
    assert seen_by_officer["kind"] == "archive_dossier" and seen_by_officer["allowed"] is False

    r = flow.post(accept["path"], accept["body"], custodian)
    assert r.status_code == 201, r.get_json()
    assert _dossier_actions(flow, case, custodian) == []

    # A record made after the acceptance goes into a supplementary volume (never a rewrite).
    flow.record(case, "filing_form")
    [supplement] = _dossier_actions(flow, case, flow.officer)
    assert supplement["kind"] == "build_dossier" and "补充卷" in supplement["text_zh"]


def test_a32_1_build_refused_before_the_act_ends_is_not_offered(flow):
    """A32.1: a case whose act has not ended offers no build, and the build is refused."""
    case = flow.open()
    assert _dossier_actions(flow, case, flow.officer) == []
    r = flow.post(f"/api/v1/cases/{case['id']}/dossier", {})
    assert r.status_code == 409 and r.get_json()["error"]["missing"] == ["A32.1"]

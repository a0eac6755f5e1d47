"""Officer dialogs: /new, /cases, /case N, /checklist, /stage, /cancel (A2.1, A3.1, A10.1)."""

from __future__ import annotations

from sqlalchemy import select

from core.cases.models import Case, Party
from tests.bot.support import bind, open_case, play


def test_new_case_dialog_opens_case_with_location_site(container, people, fake):
    """/new asks kind, route, subject, party, site (location), emergency; a summary first (A2.1)."""
    user = fake.user(6001)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        out = {"kind": await h.say(user, "/new")}
        out["route"] = await h.press(user, "nk:penalty")
        out["title"] = await h.press(user, "nr:ex_officio")
        out["party"] = await h.say(user, "未取得施工许可擅自施工")
        out["name"] = await h.press(user, "np:organisation")
        out["id"] = await h.say(user, "岳阳某建设有限公司")
        out["site"] = await h.say(user, "91430600MA4L000000")
        out["address"] = await h.send(fake.location(user, 29.3573, 113.1290, accuracy=12))
        out["emergency"] = await h.say(user, "岳阳市岳阳楼区某路1号")
        out["summary"] = await h.press(user, "ne:0")
        out["opened"] = await h.press(user, "nc:ok")
        return out

    out = play(container, fake, script)
    assert out["kind"] == ["新建案件（1/6）：执法类别？"]
    assert out["route"] == ["（2/6）启动方式？"]
    assert out["site"][0].startswith("（5/6）现场位置")
    assert out["address"] == ["位置已收到（精度约 12 米）。请输入地址，或点“跳过”："]
    assert out["emergency"][-1] == "（6/6）是否紧急情况先行启动（A10.2）？"
    assert out["summary"][0] == ("请核对：\n类别：行政处罚\n启动方式：依职权\n"
                                 "案由：未取得施工许可擅自施工\n"
                                 "当事人：岳阳某建设有限公司（91430600MA4L000000）\n"
                                 "现场：29.357300, 113.129000 岳阳市岳阳楼区某路1号\n紧急：否")
    with container.uow() as uow:
        case = uow.session.execute(select(Case)).scalar_one()
        party = uow.session.get(Party, case.party_id)
    assert out["opened"] == [f"✅ 已立案登记：{case.number}（当前案件）。\n"
                             "下一步还缺：立案审批表经负责人批准（A10.1）"]
    assert (case.kind, case.initiation, case.emergency) == ("penalty", "ex_officio", False)
    assert (case.site_lat, case.site_lon, case.site_datum) == (29.3573, 113.129, "wgs84")
    assert case.site_address == "岳阳市岳阳楼区某路1号" and case.opened_by == people["张伟"]["id"]
    assert (party.name, party.kind, party.id_number) == ("岳阳某建设有限公司", "organisation",
                                                         "91430600MA4L000000")


def test_cancel_in_new_records_nothing(container, people, fake):
    """/cancel mid-dialog ends it and records nothing."""
    user = fake.user(6002)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await h.say(user, "/new")
        await h.press(user, "nk:inspection")
        cancelled = await h.say(user, "/cancel")
        after = await h.say(user, "继续")  # no dialog waits: the menu
        return cancelled, after

    cancelled, after = play(container, fake, script)
    assert cancelled == ["已取消，没有记录任何内容。"]
    assert after[0].startswith("没有理解")
    with container.uow() as uow:
        assert uow.session.execute(select(Case)).first() is None


def test_typed_answer_where_button_expected(container, people, fake):
    """Typing when a button is expected asks the question again with its buttons."""
    user = fake.user(6003)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await h.say(user, "/new")
        typed = await h.say(user, "处罚")
        pressed = await h.press(user, "nk:penalty")
        return typed, pressed

    typed, pressed = play(container, fake, script)
    assert typed == ["请先回答这个问题（点按钮）：\n新建案件（1/6）：执法类别？"]
    assert pressed == ["（2/6）启动方式？"]


def test_cases_and_case_n_choose_active_case(container, people, fake):
    """/cases lists cases as buttons; a button or /case N makes one active."""
    user = fake.user(6004)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await open_case(h, user)
        await open_case(h, user, route="inspection", kind="inspection", location=False)
        listed = await h.say(user, "/cases")
        buttons = h.buttons(user)
        picked = await h.press(user, [b for b in buttons if b.startswith("cs:")][-1])
        by_serial = await h.say(user, "/case 2")
        missing = await h.say(user, "/case 99")
        return listed, picked, by_serial, missing

    listed, picked, by_serial, missing = play(container, fake, script)
    with container.uow() as uow:
        first, second = uow.session.execute(select(Case).order_by(Case.serial)).scalars().all()
    assert listed == [f"请选择案件（当前：{second.number}）："]
    assert picked[0].startswith(f"当前案件：{first.number} 未取得施工许可擅自施工\n类别：行政处罚")
    assert by_serial[0].startswith(f"当前案件：{second.number}")
    assert "依职权" not in by_serial[0] and "检查" in by_serial[0]
    assert missing == ["找不到案件 99，或您无权查看。"]


def test_checklist_and_stage_gate_name_missing_ids(container, people, fake):
    """/checklist shows what the stage lacks; /stage refused names the IDs (A10.1, A3.1)."""
    user = fake.user(6005)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        none = await h.say(user, "/checklist")
        await open_case(h, user)
        checklist = await h.say(user, "/checklist")
        offer = await h.say(user, "/stage")
        refused = await h.press(user, "st:investigation")
        return none, checklist, offer, refused

    none, checklist, offer, refused = play(container, fake, script)
    assert none == ["请先选择案件：/cases 或 /case 编号；新案件用 /new。"]
    assert "⬜ 立案审批表经负责人批准（A10.1）" in checklist[0]
    assert "下一步还缺：立案审批表经负责人批准（A10.1）" in checklist[0]
    assert offer[0].endswith("当前阶段：程序启动。转入：")
    assert refused == ["规则不允许这一步：还缺 立案审批表经负责人批准（A10.1）。"]
    with container.uow() as uow:
        assert uow.session.execute(select(Case)).scalar_one().stage == "initiation"

"""/record forms generated from the catalogue, and the approval chain through buttons
(A10.1: officer → unit → head; a return needs its reason)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.forms import asked_fields, parse_answer
from core.cases.models import Approval, Case, Record
from core.rules.catalogue import CATALOGUE, Field, record_type
from tests.bot.support import bind, filing_form, open_case, play


def test_record_form_asks_each_field_by_label_and_confirms(container, people, fake):
    """The 立案审批表 form: one field per message by label_zh, a default from the case, a
    summary, then core.cases.records.add_record (A10.1)."""
    user = fake.user(7001)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await open_case(h, user)
        out = {"pick": await h.say(user, "/record"), "pick_buttons": h.buttons(user)}
        out["reason"] = await h.press(user, "rt:filing_form")
        out["party"] = await h.say(user, "未取得施工许可擅自施工")
        out["party_buttons"] = h.buttons(user)
        out["opinion"] = await h.press(user, "rf:def")
        out["source"] = await h.say(user, "建议立案调查")
        out["summary"] = await h.say(user, "日常巡查发现")
        out["saved"] = await h.press(user, "rc:ok")
        return out

    out = play(container, fake, script)
    assert out["pick"][0].endswith("要填写哪种文书？")
    assert "rt:filing_form" in out["pick_buttons"]
    assert not any(b.startswith("rt:inquiry") for b in out["pick_buttons"])  # later stage
    assert out["reason"] == ["立案审批表（1/4）立案理由：请输入"]
    assert out["party"] == ["立案审批表（2/4）当事人基本情况：请输入"]
    assert "rf:def" in out["party_buttons"]
    assert out["opinion"] == ["立案审批表（3/4）承办人意见：请输入"]
    assert out["source"] == ["立案审批表（4/4）案件来源（选填）：请输入"]
    assert out["summary"][0] == ("请核对 立案审批表：\n立案理由: 未取得施工许可擅自施工\n"
                                 "当事人基本情况: 岳阳某建设有限公司（91430600MA4L000000）\n"
                                 "承办人意见: 建议立案调查\n案件来源: 日常巡查发现")
    with container.uow() as uow:
        record = uow.session.execute(select(Record)).scalar_one()
        case = uow.session.get(Case, record.case_id)
    assert out["saved"][0] == (f"✅ 已记录：立案审批表（{case.number}）。\n"
                               "下一步还缺：立案审批表经负责人批准（A10.1）")
    assert out["saved"][1] == "已提交审批，已通知：王强。"
    assert record.fields == {"reason": "未取得施工许可擅自施工",
                             "party_info": "岳阳某建设有限公司（91430600MA4L000000）",
                             "officer_opinion": "建议立案调查", "case_source": "日常巡查发现"}
    assert record.officers == [people["张伟"]["id"]]


def test_approval_chain_supervisor_then_head_by_buttons(container, people, fake):
    """The filing form goes to the bound supervisor, then the head; the officer hears each
    step and, at the end, that the stage may move on (A10.1)."""
    officer, supervisor, head = fake.user(7101), fake.user(7102), fake.user(7103)

    async def script(h):
        await bind(h, container, officer, people["张伟"]["id"])
        await bind(h, container, supervisor, people["王强"]["id"])
        await bind(h, container, head, people["陈静"]["id"])
        await open_case(h, officer)
        mark = fake.mark()
        saved = await filing_form(h, officer)
        await h.deliver()  # the outbox, as the worker delivers it
        to_supervisor = fake.sent(supervisor["id"], mark)
        head_before = fake.sent(head["id"], mark)
        mark = fake.mark()
        approved = await h.press(supervisor, h.buttons(supervisor)[0])
        await h.deliver()
        to_head = fake.sent(head["id"], mark)
        officer_hears = fake.sent(officer["id"], mark)
        mark = fake.mark()
        final = await h.press(head, [b for b in h.buttons(head) if b.endswith(":a")][0])
        await h.deliver()
        officer_final = fake.sent(officer["id"], mark)
        moved = await h.say(officer, "/stage")
        moved += await h.press(officer, "st:investigation")
        return (saved, to_supervisor, head_before, approved, to_head, officer_hears, final,
                officer_final, moved)

    (saved, to_supervisor, head_before, approved, to_head, officer_hears, final,
     officer_final, moved) = play(container, fake, script)
    with container.uow() as uow:
        record = uow.session.execute(select(Record)).scalar_one()
        case = uow.session.get(Case, record.case_id)
        approvals = uow.session.execute(select(Approval).order_by(Approval.at)).scalars().all()
    assert saved[1] == "已提交审批，已通知：王强。"
    assert to_supervisor[0].startswith("📝 待审批：立案审批表\n案件：" + case.number)
    assert "已完成：承办人意见 张伟 同意\n请您：承办机构意见" in to_supervisor[0]
    assert head_before == []
    assert approved == [f"✅ 您已同意（承办机构意见）：立案审批表 {case.number}。"]
    assert "已完成：承办人意见 张伟 同意；承办机构意见 王强 同意\n请您：负责人审批" in to_head[0]
    assert officer_hears == [f"立案审批表（{case.number}）：王强 已同意（承办机构意见）。"]
    assert final == [f"✅ 您已同意（负责人审批）：立案审批表 {case.number}。"]
    assert officer_final == [f"✅ 立案审批表（{case.number}）审批完成。\n"
                             "本阶段已齐全，可进入“调查取证”。"]
    assert [(a.step, a.decision) for a in approvals] == [
        ("officer", "approve"), ("unit", "approve"), ("head", "approve")]
    assert [a.officer_id for a in approvals] == [people["张伟"]["id"], people["王强"]["id"],
                                                 people["陈静"]["id"]]
    assert moved[-1].startswith(f"✅ {case.number} 已进入“调查取证”。")
    assert case.stage == "investigation"


def test_return_with_reason_reaches_the_submitter(container, people, fake):
    """↩ asks the reason; core.cases.records.approve records the return; the officer is told."""
    officer, supervisor = fake.user(7201), fake.user(7202)

    async def script(h):
        await bind(h, container, officer, people["张伟"]["id"])
        await bind(h, container, supervisor, people["王强"]["id"])
        await open_case(h, officer)
        await filing_form(h, officer)
        await h.deliver()
        ask = await h.press(supervisor, [b for b in h.buttons(supervisor) if b.endswith(":r")][0])
        mark = fake.mark()
        done = await h.say(supervisor, "当事人信息不全")
        await h.deliver()
        told = fake.sent(officer["id"], mark)
        late = await h.press(supervisor, [b for b in h.buttons(supervisor)
                                          if b.endswith(":a")][0]) \
            if any(b.endswith(":a") for b in h.buttons(supervisor)) else []
        return ask, done, told, late

    ask, done, told, late = play(container, fake, script)
    with container.uow() as uow:
        number = uow.session.execute(select(Case)).scalar_one().number
        ret = uow.session.execute(select(Approval).where(Approval.decision == "return")
                                  ).scalar_one()
    assert ask == ["请输入退回理由："]
    assert done == [f"↩ 您已退回（承办机构意见）：立案审批表 {number}。理由：当事人信息不全"]
    assert told == [f"↩ 立案审批表（{number}）被 王强 退回（承办机构意见）。理由：当事人信息不全\n"
                    "请修改后重新提交。"]
    assert (ret.step, ret.opinion) == ("unit", "当事人信息不全")
    assert late == []  # the buttons were taken away with the answer


def test_officer_cannot_approve_the_unit_step(container, people, fake):
    """A button pressed by the wrong role gets the plain refusal (A10.1 roles, A8.1)."""
    officer, officer2 = fake.user(7301), fake.user(7302)

    async def script(h):
        await bind(h, container, officer, people["张伟"]["id"])
        await bind(h, container, officer2, people["李娜"]["id"])
        await open_case(h, officer)
        await filing_form(h, officer)
        with container.uow() as uow:
            rid = uow.session.execute(select(Record.id)).scalar_one()
        fake.messages[(officer2["id"], 1)] = {
            "message_id": 1, "date": 0, "chat": {"id": officer2["id"], "type": "private"},
            "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "ok",
                                                                "callback_data": f"ap:{rid}:a"}]]}}
        return await h.press(officer2, f"ap:{rid}:a")

    # The refusal says whose step it is (issue 15: every refusal worded in Chinese).
    assert play(container, fake, script) == [
        "您的角色不能进行这一步。（此操作须由承办机构负责人办理）"]


@pytest.mark.parametrize("ftype,text,expected", [
    ("int", "12", 12), ("bool", "是", True), ("bool", "no", False),
    ("list", "身份证复印件、营业执照；授权书\n图纸",
     ["身份证复印件", "营业执照", "授权书", "图纸"]),
    ("date", "2026年11月26日", "2026-11-26"), ("date", "2026/1/5", "2026-01-05"),
    ("datetime", "2026-11-26 09:30", "2026-11-26T09:30:00+08:00"),
    ("string", "  张三 ", "张三"),
])
def test_parse_answer_per_field_type(ftype, text, expected):
    """Typed answers become the field type's value; the catalogue validates them after."""
    from zoneinfo import ZoneInfo

    f = Field("x", ftype, "标签")
    assert parse_answer(f, text, ZoneInfo("Asia/Shanghai")) == expected


@pytest.mark.parametrize("ftype,text", [("int", "十二"), ("bool", "也许"), ("date", "明天")])
def test_parse_answer_refuses_what_it_cannot_read(ftype, text):
    """An unreadable answer raises ValueError (the bot asks again)."""
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError):
        parse_answer(Field("x", ftype, "标签"), text, ZoneInfo("Asia/Shanghai"))


def test_every_catalogue_type_has_a_form():
    """Forms come from the catalogue: every type a person fills in has askable fields, and
    system-filled fields are never asked."""
    for rtype in CATALOGUE:
        asked = asked_fields(rtype)
        assert all(not getattr(f, "auto", False) for f in asked)
        assert all(f.label_zh for f in asked), rtype.name
    assert [f.name for f in asked_fields(record_type("filing_form"))] == [
        "reason", "party_info", "officer_opinion", "case_source"]


def test_field_validation_error_asks_again(container, people, fake):
    """A field the catalogue refuses is asked again with the problem."""
    user = fake.user(7401)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await open_case(h, user)
        await h.say(user, "/record")
        await h.press(user, "rt:filing_form")
        return await h.say(user, "长" * 5000)

    replies = play(container, fake, script)
    assert replies == ["“立案理由”填写有误：超过 4000 个字。请重新输入。"]


def test_interrupt_then_resume_through_the_bot(container, people, fake):
    """A17.2: /interrupt records that the recording stopped and can continue; /resume records
    the restart and the voice explanation as a correction (core.cases.recordings)."""
    from tests.bot.support import case_in_investigation

    user = fake.user(7501)
    case_in_investigation(container, people)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await h.say(user, "/case 1")
        await h.say(user, "/interrupt")
        await h.press(user, "rf:skip")  # no evidence item named
        await h.press(user, "rf:c2")  # battery
        await h.press(user, "rf:skip")
        await h.press(user, "rf:now")
        await h.press(user, "rf:b1")  # it can continue
        for _ in range(2):  # resumed_at and voice_explained: when it restarts
            await h.press(user, "rf:skip")
        saved = await h.press(user, "rc:ok")
        asked = await h.say(user, "/resume")
        done = await h.press(user, "rs:1")
        return saved, asked, done

    saved, asked, done = play(container, fake, script)
    assert saved[0].startswith("✅ 已记录：音像记录中断说明")
    assert asked == ["恢复录像时是否已语音说明中断原因（A17.2）？"]
    with container.uow() as uow:
        rows = uow.session.execute(select(Record).where(Record.type == "av_interruption")
                                   .order_by(Record.created_at)).scalars().all()
    assert len(rows) == 2 and rows[1].corrects_id == rows[0].id
    assert rows[1].fields["voice_explained"] is True and rows[1].fields["resumed_at"]
    assert rows[1].fields["reason"] == "battery"

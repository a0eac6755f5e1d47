"""Complainants (A11.1): /complain reaches the staff who register it; /status answers with
tracking number + code through core.complaints.tickets."""

from __future__ import annotations

from datetime import UTC, datetime

from limits import parse

from core.cases import lifecycle as case_service
from core.cases import records as record_service
from core.cases.commands import AddRecord, OpenCase
from core.complaints import tickets as complaints
from core.people.models import Officer
from core.platform import ratelimit
from tests.bot.support import plain_jpeg, play


def test_complain_dialog_queues_then_supervisor_accepts_by_button(container, people, fake):
    """Issue 12, finding 5 (A11.1, N21): what, where (location), photos, contact (this chat),
    summary; the complaint waits in the intake queue (no case), the complainant gets the
    tracking number and code at once, the bound supervisor gets the alert with accept/reject
    buttons; ✅ opens the case through core with N21 counted from submission, the photo
    stored as evidence (A31.1) and the receipt notice sent to the filing chat."""
    from sqlalchemy import select

    from core.cases.models import Case, Evidence
    from core.complaints.models import ComplaintIntake
    from core.deadlines.models import Deadline
    from tests.bot.support import bind

    public, boss = fake.user(9501, "市民"), fake.user(9510)

    async def script(h):
        await bind(h, container, boss, people["王强"]["id"])
        out = [await h.say(public, "/complain")]
        out.append(await h.say(public, "工地夜间违规施工，噪音扰民"))
        out.append(await h.send(fake.location(public, 29.36, 113.13, accuracy=20)))
        out.append(await h.send(fake.photo(public, plain_jpeg())))
        out.append(await h.press(public, "cq:done"))
        out.append(await h.press(public, "cq:tg"))
        out.append(await h.press(public, "cq:ok"))
        with container.uow() as uow:
            out.append(uow.session.execute(select(Case)).scalars().all())
        mark = fake.mark()
        await h.deliver()
        out.append(fake.sent(boss["id"], mark))
        out.append(h.buttons(boss))
        accept = [b for b in h.buttons(boss) if b.endswith(":a")][0]
        out.append(await h.press(boss, accept))
        mark = fake.mark()
        await h.deliver()
        out.append(fake.sent(public["id"], mark))
        return out

    (what, where, photo, contact, summary, confirm, sent, cases_before, alert, alert_buttons,
     accepted, told) = play(container, fake, script)
    assert what == ["投诉举报（1/4）：请描述您要反映的问题："]
    assert where[0].startswith("（2/4）在哪里？")
    assert photo[-1] == "（3/4）如有照片请发送（可多张），发完点“完成”："
    assert contact == ["已收到并保存第 1 个文件，提交后作为证据登记。"]
    assert summary[0].startswith("（4/4）联系方式")
    assert confirm == ["请核对：\n问题：工地夜间违规施工，噪音扰民\n地点：29.360000, 113.130000\n"
                       "照片：1 张\n联系方式：tg:9501"]
    assert len(sent) == 1 and sent[0].startswith("✅ 已提交。受理编号 TS")
    assert "工作人员核查后决定是否受理" in sent[0] and "/confirm" not in sent[0]  # the chat
    assert cases_before == []  # nothing opens before a supervisor accepts it
    tracking_no = sent[0].split("受理编号 ")[1].split("，")[0]
    code = sent[0].split("查询码 ")[1].split("。")[0]
    assert len(alert) == 1
    assert alert[0].startswith(f"📥 新的群众投诉待核查（受理编号 {tracking_no}）")
    assert "联系方式：Telegram（已确认）" in alert[0] and "9501" not in alert[0]
    assert {b.split(":")[-1] for b in alert_buttons if b.startswith("ci:")} >= {
        "a", "spam", "duplicate", "out_of_scope"}
    with container.uow() as uow:
        item = uow.session.execute(select(ComplaintIntake)).scalar_one()
        case = uow.session.execute(select(Case)).scalar_one()
        assert accepted == [f"✅ 已受理 {tracking_no}，已立案登记为 {case.number}。"]
        assert (item.status, item.case_id, item.decided_by) == (
            "accepted", case.id, people["王强"]["id"])
        assert (case.initiation, case.site_lat) == ("complaint", 29.36)
        status = complaints.complaint_status(uow.session, tracking_no, code)
        assert status["status"] == "received" and status["tracking_no"] == tracking_no
        n21 = uow.session.execute(select(Deadline).where(Deadline.rule_id == "N21")
                                  ).scalar_one()
        assert n21.trigger_at == item.received_at  # N21 counts from submission
        evidence = uow.session.execute(select(Evidence)).scalars().all()
        assert [(e.case_id, e.proves, e.media_type) for e in evidence] == [
            (case.id, "投诉人提供的现场材料", "image/jpeg")]
        assert uow.blobs.exists(evidence[0].sha256)
    assert len(told) == 1 and f"受理编号 {tracking_no}）经核查已受理登记" in told[0]
    assert code not in told[0]  # the code was given once, at submission


def test_typed_email_waits_for_confirmation_and_supervisor_rejects(container, people, fake):
    """Issue 12, finding 5: an e-mail typed in the dialog gets only a one-time confirmation
    code until /confirm; a wrong code is refused; the supervisor's ✗ asks a reason, records
    the rejection, and the status says "not accepted" with it; no case ever opens."""
    from sqlalchemy import select

    from core.cases.models import Case
    from core.complaints.models import ComplaintIntake
    from core.notices.models import OutboxMessage
    from tests.bot.support import bind

    public, boss = fake.user(9520), fake.user(9521)

    async def script(h):
        await bind(h, container, boss, people["王强"]["id"])
        await h.say(public, "/complain")
        await h.say(public, "广告牌遮挡")
        await h.say(public, "某路口")
        await h.press(public, "cq:done")
        await h.say(public, "li.si@example.com")
        sent = await h.press(public, "cq:ok")
        number = sent[0].split("受理编号 ")[1].split("，")[0]
        with container.uow() as uow:
            mail = uow.session.execute(select(OutboxMessage).where(
                OutboxMessage.channel == "email")).scalars().all()
        wrong = await h.say(public, f"/confirm {number} WRONG123")
        code = mail[0].body.split(f"/confirm {number} ")[1].split("（")[0]
        right = await h.say(public, f"/confirm {number} {code}")
        await h.deliver()
        reject = [b for b in h.buttons(boss) if b.endswith(":r:duplicate")][0]
        asked = await h.press(boss, reject)
        done = await h.say(boss, "与 TS 前一件相同")
        return sent, number, mail, wrong, right, asked, done

    sent, number, mail, wrong, right, asked, done = play(container, fake, script)
    assert "/confirm " + number in sent[0] and "确认前，不会向该地址发送任何办理通知" in sent[0]
    assert [(m.recipient, m.payload["event"]) for m in mail] == [
        ("li.si@example.com", "complaint.contact_confirmation")]
    assert wrong == ["受理编号或确认码不正确，或确认码已过期。"]
    assert right == [f"✅ 联系方式已确认（{number}），办理通知将发送到该地址。"]
    assert asked == ["请输入不予受理的理由（重复投诉）："]
    assert done == [f"已决定不予受理 {number}（重复投诉）。理由：与 TS 前一件相同"]
    with container.uow() as uow:
        item = uow.session.execute(select(ComplaintIntake)).scalar_one()
        assert (item.status, item.reject_kind, item.reject_reason) == (
            "rejected", "duplicate", "与 TS 前一件相同")
        assert item.contact_confirmed_at is not None and item.confirm_hash is None
        assert uow.session.execute(select(Case)).scalars().all() == []
        told = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.recipient == "li.si@example.com")).scalars().all()
    # after the confirmation, the rejection reaches the confirmed address
    assert [m.payload["event"] for m in told] == ["complaint.contact_confirmation",
                                                  "complaint_intake.rejected"]


def test_complain_with_nobody_to_receive_says_so(container, fake):
    """No department takes complaints and no staff is bound: the complainant is told to call
    12345, nothing pretends to be kept."""
    public = fake.user(9503)

    async def script(h):
        await h.say(public, "/complain")
        await h.say(public, "占道施工")
        await h.say(public, "某路口")
        await h.press(public, "cq:done")
        await h.say(public, "13800000000")
        return await h.press(public, "cq:ok")

    assert play(container, fake, script) == [
        "抱歉，目前没有工作人员在线接收投诉，请拨打 12345 热线。您的内容未被记录。"]


def test_status_with_tracking_number_and_code(container, people, fake):
    """/status asks the number and the code and shows the status (core.complaints.tickets)."""
    with container.uow() as uow:
        actor = uow.session.get(Officer, people["张伟"]["id"])
        case = case_service.open_case(uow, actor, OpenCase.parse({
            "kind": "penalty", "initiation": "complaint", "title": "噪音投诉"})).case
        ticket = record_service.add_record(uow, actor, case.id, AddRecord.parse({
            "type": "complaint_intake", "fields": {
                "complainant_name": "赵六", "complainant_contact": "tg:9504",
                "channel": "telegram", "received_at": datetime.now(UTC).isoformat(),
                "content": "夜间施工"}})).complaint_ticket
    public = fake.user(9504)

    async def script(h):
        asked = await h.say(public, "/status")
        code = await h.say(public, ticket["tracking_no"])
        shown = await h.say(public, ticket["code"])
        wrong = await h.say(public, f"/status {ticket['tracking_no']} WRONGCODE1")
        return asked, code, shown, wrong

    asked, code, shown, wrong = play(container, fake, script)
    assert asked == ["请输入受理编号（TS开头）："]
    assert code == ["请输入查询码："]
    assert shown == [f"受理编号 {ticket['tracking_no']}：已登记，待审查"]
    assert wrong == ["受理编号或查询码不正确。"]


def test_status_lookups_are_rate_limited_per_account(container, people, fake):
    """Issue 12, finding 6: /status counts against the same lookup limits as the HTTP lookup
    (core.platform.ratelimit "complaint_lookup"), the Telegram account standing for the address;
    once over, even the right code gets a plain Chinese sentence, and another account is not
    affected."""
    allowed = parse(ratelimit.LIMITS["complaint_lookup"]).amount  # per caller
    with container.uow() as uow:
        actor = uow.session.get(Officer, people["张伟"]["id"])
        case = case_service.open_case(uow, actor, OpenCase.parse({
            "kind": "penalty", "initiation": "complaint", "title": "噪音投诉"})).case
        ticket = record_service.add_record(uow, actor, case.id, AddRecord.parse({
            "type": "complaint_intake", "fields": {
                "complainant_name": "赵六", "complainant_contact": "tg:9505",
                "channel": "telegram", "received_at": datetime.now(UTC).isoformat(),
                "content": "夜间施工"}})).complaint_ticket
    guesser, other = fake.user(9505), fake.user(9506)

    async def script(h):
        guesses = [await h.say(guesser, f"/status {ticket['tracking_no']} WRONG{i:05d}")
                   for i in range(allowed)]
        over = await h.say(guesser, f"/status {ticket['tracking_no']} {ticket['code']}")
        elsewhere = await h.say(other, f"/status {ticket['tracking_no']} {ticket['code']}")
        return guesses, over, elsewhere

    guesses, over, elsewhere = play(container, fake, script)
    assert guesses == [["受理编号或查询码不正确。"]] * allowed
    assert len(over) == 1 and over[0].startswith("查询过于频繁，请 ") \
        and over[0].endswith(" 分钟后再试。"), over
    assert elsewhere == [f"受理编号 {ticket['tracking_no']}：已登记，待审查"]


def test_intake_buttons_and_list_stay_in_the_department(container, people, fake):
    """Issue 12, finding 5: /intake lists the department's pending complaints to its
    supervisor; another department's bound supervisor sees none and pressing the item's ✅
    is "not found" (nothing opens); a rejected item's ✅ afterwards is refused (409)."""
    from sqlalchemy import select

    from core.cases.models import Case
    from core.complaints.models import ComplaintIntake
    from core.complaints.public import PublicComplaint, submit_public
    from core.people.officers import add_officer, ensure_department
    from tests.bot.support import bind
    from tests.bot.test_identity_grid import _button

    with container.uow() as uow:
        ticket = submit_public(uow, PublicComplaint.parse(
            {"what": "占道经营", "contact": "13800000055"}))
        item_id = uow.session.execute(select(ComplaintIntake.id)).scalar_one()
    with container.uow() as uow:
        dept_b = ensure_department(uow.session, "QTJ", "另一局")
        b_id = add_officer(uow.session, dept_b, "乙主管", ["supervisor"], "B9").id
    boss, other = fake.user(9530), fake.user(9531)

    async def script(h):
        await bind(h, container, boss, people["王强"]["id"])
        await bind(h, container, other, b_id)
        listed = await h.say(boss, "/intake")
        elsewhere = await h.say(other, "/intake")
        _button(fake, other["id"], f"ci:{item_id}:a")
        stolen = await h.press(other, f"ci:{item_id}:a")
        await h.press(boss, f"ci:{item_id}:r:spam")
        rejected = await h.say(boss, "推销广告")
        _button(fake, boss["id"], f"ci:{item_id}:a")
        late = await h.press(boss, f"ci:{item_id}:a")
        return listed, elsewhere, stolen, rejected, late

    listed, elsewhere, stolen, rejected, late = play(container, fake, script)
    assert len(listed) == 1 and ticket["tracking_no"] in listed[0]
    assert "13800000055" not in listed[0]  # an unconfirmed contact is not shown
    assert elsewhere == ["没有待核查的群众投诉。"]
    assert stolen == ["找不到该案件或记录，或您无权查看。"]
    assert rejected == [f"已决定不予受理 {ticket['tracking_no']}（垃圾信息）。理由：推销广告"]
    assert len(late) == 1 and "该投诉已决定不予受理" in late[0]
    with container.uow() as uow:
        assert uow.session.execute(select(Case)).scalars().all() == []

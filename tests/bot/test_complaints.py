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


def test_complain_dialog_gives_tracking_number_and_tells_supervisor(container, people, fake):
    """A11.1, N24: what, where (location), photos, contact (this chat), summary; the complaint
    is registered as a complaint case at once, the complainant gets the tracking number and
    code, the supervisor's notice is queued, and the photo is stored as evidence of the
    complaint (A31.1: nothing sent is only mentioned)."""
    from sqlalchemy import select

    from core.cases.models import Case, Evidence
    from core.deadlines.models import Deadline
    from core.notices.models import OutboxMessage

    public = fake.user(9501, "市民")

    async def script(h):
        out = [await h.say(public, "/complain")]
        out.append(await h.say(public, "工地夜间违规施工，噪音扰民"))
        out.append(await h.send(fake.location(public, 29.36, 113.13, accuracy=20)))
        out.append(await h.send(fake.photo(public, plain_jpeg())))
        out.append(await h.press(public, "cq:done"))
        out.append(await h.press(public, "cq:tg"))
        out.append(await h.press(public, "cq:ok"))
        return out

    what, where, photo, contact, summary, confirm, sent = play(container, fake, script)
    assert what == ["投诉举报（1/4）：请描述您要反映的问题："]
    assert where[0].startswith("（2/4）在哪里？")
    assert photo[-1] == "（3/4）如有照片请发送（可多张），发完点“完成”："
    assert contact == ["已收到并保存第 1 个文件，提交后作为证据登记。"]
    assert summary[0].startswith("（4/4）联系方式")
    assert confirm == ["请核对：\n问题：工地夜间违规施工，噪音扰民\n地点：29.360000, 113.130000\n"
                       "照片：1 张\n联系方式：tg:9501"]
    assert len(sent) == 1 and sent[0].startswith("✅ 已提交。受理编号 TS")
    tracking_no = sent[0].split("受理编号 ")[1].split("，")[0]
    code = sent[0].split("查询码 ")[1].split("。")[0]
    with container.uow() as uow:
        status = complaints.complaint_status(uow.session, tracking_no, code)
        case = uow.session.execute(select(Case)).scalar_one()
        assert (case.initiation, case.site_lat) == ("complaint", 29.36)
        assert status["status"] == "received" and status["tracking_no"] == tracking_no
        rules = {d.rule_id for d in uow.session.execute(select(Deadline)).scalars()}
        assert "N21" in rules and "N24" not in rules  # N24 only where a department opts in
        notices = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.officer_id == people["supervisor"]["id"])).scalars().all()
        assert notices and all(case.number in m.body for m in notices)
        evidence = uow.session.execute(select(Evidence)).scalars().all()
        assert [(e.case_id, e.proves, e.media_type) for e in evidence] == [
            (case.id, "投诉人提供的现场材料", "image/jpeg")]
        assert uow.blobs.exists(evidence[0].sha256)


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

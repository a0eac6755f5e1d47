"""One case played through the bot only, over HTTP to the fake Bot API (issue 6, Done means):
bind, open, the filing form approved by the supervisor then the head (A10.1), investigation
(A3.1), an inquiry record with two certified officers (A14.1) signed by the officers and refused
by the interviewee before two witnesses (A13.2, A22.2), evidence from the chat (A31.1): a JPEG
sent as a file (GPS checked) and a compressed photo (flagged); then the decision stage: the
handling opinion approved by the head (A19.1, A18.1), the rights notice served directly and
the statement waived (A22.1, A22.3), the decision with a fine and an ordered correction
(A18.1); the service stage: the decision served by lodged service signed by the server and a
witness, with the video of it sent to the chat (A23.1, A26.1, N20); and a deadline reminder
(A29.1) made due by the clock, swept by the worker and delivered by the real Telegram channel
to the fake server, whose "open the case" button opens the case. Then the database, the
deadlines, the outbox, the ledger and every reply are checked."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import ledger
from core.cases.models import Approval, Case, Evidence, Record, Refusal, Signature, StageChange
from core.deadlines.models import Deadline, Reminder
from core.notices.models import OutboxMessage
from core.people.models import AccessLog
from notifications.channels import build_channels
from notifications.config import NotifyConfig
from tests.bot.support import (
    bind,
    filing_form,
    jpeg_with_gps,
    open_case,
    phone_video,
    plain_jpeg,
    play,
)
from worker.config import WorkerConfig
from worker.inprocess import InprocessWorker

SITE = (29.3573, 113.1290)
BEIJING = ZoneInfo("Asia/Shanghai")
# Issue 12: the 送达回证 is drawn after the commit; the officer is told where it will be.
RECEIPT = "送达回证正在生成，完成后列入该送达文书的证据，可在网页端（/web）案件页面查看、下载。"
REMEDY = "如不服本决定，可在收到之日起六十日内申请行政复议或六个月内提起行政诉讼"


@pytest.fixture
def settings(settings, api_server):
    """TELEGRAM_API_BASE_URL is the fake Bot API server: the bot and the notification
    channel both talk to it over HTTP."""
    return replace(settings, telegram_api_base_url=api_server.url)


def test_whole_case_through_the_bot(container, people, fake, api_server, clock):
    """A10.1 A3.1 A14.1 A13.2 A22.2 A31.1 A19.1 A18.1 A22.1 A22.3 A23.1 A24.1 A26.1 A29.1:
    the scenario of issue 6, through the bot only."""
    officer, colleague = fake.user(10001, "张伟"), fake.user(10002, "李娜")
    supervisor, head = fake.user(10003, "王强"), fake.user(10004, "陈静")
    pay_by = (datetime.now(UTC) + timedelta(days=45)).astimezone(BEIJING).date()
    emitted: list[tuple] = []
    log: dict = {}

    async def sign(h, signer: str, name: str | None = None, method: str = "signature"
                   ) -> list[str]:
        """/sign the newest open record: an officer or server button, or a role whose name
        the record already holds; then the photo of the signature."""
        await h.say(officer, "/sign")
        await h.press(officer, "sg:0")  # the newest record first
        await h.press(officer, signer)
        if name is not None:
            await h.press(officer, name)
        await h.press(officer, f"sm:{method}")
        return await h.send(fake.photo(officer, plain_jpeg()))

    async def fill(h, steps: list[str]) -> list[list[str]]:
        """Answer a form's questions: "rf:…" presses that button, anything else is typed."""
        return [await (h.press(officer, s) if s.startswith("rf:") else h.say(officer, s))
                for s in steps]

    async def script(h):
        for user, name in ((officer, "张伟"), (colleague, "李娜"), (supervisor, "王强"),
                           (head, "陈静")):
            await bind(h, container, user, people[name]["id"])
        log["opened"] = await open_case(h, officer)
        log["filed"] = await filing_form(h, officer)
        await h.deliver()  # approval requests go out through the outbox, as the worker does
        log["unit"] = await h.press(supervisor, h.buttons(supervisor)[0])
        await h.deliver()
        log["head"] = await h.press(head, h.buttons(head)[0])
        await h.deliver()
        await h.say(officer, "/stage")
        log["stage"] = await h.press(officer, "st:investigation")

        # 询问笔录 with the colleague on it (A14.1), every field from the catalogue.
        log["pick"] = await h.say(officer, "/record")
        log["officers"] = await h.press(officer, "rt:inquiry_record")
        await h.press(officer, f"ro:{people['李娜']['id']}")
        answers = [("text", "张三"), ("press", "rf:skip"), ("press", "rf:c0"),
                   ("text", "岳阳市岳阳楼区某路1号工地"),
                   ("text", (datetime.now(UTC) - timedelta(minutes=40))
                    .astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")),
                   ("text", (datetime.now(UTC) - timedelta(minutes=5))
                    .astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")),
                   ("text", "问：工地是否取得施工许可？答：没有。"), ("press", "rf:b1"),
                   ("press", "rf:b0")]
        log["fields"] = [await h.press(officer, "ro:done")]
        for kind, value in answers:
            log["fields"].append(await (h.say(officer, value) if kind == "text"
                                        else h.press(officer, value)))
        log["inquiry"] = await h.press(officer, "rc:ok")

        # Both officers sign; the interviewee refuses before two witnesses (A22.2).
        log["signed"] = [await sign(h, "so:0"), await sign(h, "so:0")]
        log["refuse"] = await h.say(officer, "/refuse")
        await h.press(officer, "rp:0")
        await h.press(officer, "rr:interviewee")
        await h.press(officer, "rn:d")
        await h.say(officer, "拒绝签名，未说明理由")
        log["proof"] = await h.press(officer, "rl:d")
        for name, idn in (("刘一", "430602199001010011"), ("陈二", "430602199202020022")):
            await h.press(officer, "rw:add")
            await h.say(officer, name)
            await h.say(officer, idn)
            await h.say(officer, "村委会工作人员")
            log.setdefault("witness", []).append(await h.send(fake.photo(officer, plain_jpeg())))
        log["refuse_summary"] = await h.press(officer, "rw:done")
        log["refused"] = await h.press(officer, "rc2:ok")

        # Evidence: the original as a file (GPS checked), then a compressed photo.
        await h.send(fake.location(officer, *SITE, accuracy=10))
        photo = jpeg_with_gps(*SITE, datetime.now(UTC).astimezone())
        log["file"] = await h.send(fake.document(officer, photo, "IMG_0001.jpg", "image/jpeg"))
        log["file_verdict"] = await h.press(officer, "pv:0")
        log["compressed"] = await h.send(fake.photo(officer, plain_jpeg()))
        log["compressed_verdict"] = await h.press(officer, "pv:0")
        log["checklist"] = await h.say(officer, "/checklist")
        log["tasks"] = await h.say(officer, "/tasks")
        log["open"] = await h.press(officer, [b for b in h.buttons(officer)
                                              if b.startswith("oc:")][0])

        # Decision stage: the handling opinion, approved by the unit then the head (A18.1).
        await h.say(officer, "/stage")
        log["to_decision"] = await h.press(officer, "st:decision")
        await h.say(officer, "/record")
        await h.press(officer, "rt:handling_opinion")
        log["opinion_fields"] = await fill(h, [
            "rf:def", "现场检查笔录、询问笔录、现场照片", "未取得施工许可擅自施工",
            "《建筑法》第六十四条", "事实清楚，证据确凿", "责令改正，罚款五千元",
            "首次违法，主动配合", "建议处罚", "rf:b0", "rf:b0",
            "rf:skip", "rf:skip", "rf:skip"])  # N28 questions (issue 10)
        log["opinion"] = await h.press(officer, "rc:ok")
        await h.deliver()
        mark = fake.mark()
        log["opinion_unit"] = await h.press(supervisor, h.buttons(supervisor)[0])
        await h.deliver()
        log["opinion_to_head"] = fake.sent(head["id"], mark)
        log["opinion_head"] = await h.press(head, h.buttons(head)[0])
        await h.deliver()
        log["opinion_to_officer"] = fake.sent(officer["id"], mark)

        # The rights notice, served directly (A24.1), then the party waives (A22.3).
        await h.say(officer, "/record")
        await h.press(officer, "rt:rights_notice")
        log["notice_fields"] = await fill(h, [
            "责令改正并处罚款五千元", "未取得施工许可擅自施工", "违反《建筑法》第七条",
            "《建筑法》第六十四条", "书面或口头向本局陈述申辩", "5", "rf:b0",
            "rf:skip", "rf:skip", "rf:skip"])  # the proposed penalty (N4, issue 10)
        log["notice"] = await h.press(officer, "rc:ok")
        log["serve_notice"] = await h.say(officer, "/serve")
        await h.press(officer, "rt:service_direct")
        log["direct_fields"] = await fill(h, [
            h.labelled(officer, "陈述申辩权利告知书"), "周建国", "周建国", "rf:c1",
            "岳阳某建设有限公司办公室"])
        log["direct"] = await h.press(officer, "rc:ok")
        log["direct_server"] = await sign(h, "sv:0")
        log["direct_recipient"] = await sign(h, "sr:recipient", "sn:d")
        await h.say(officer, "/record")
        await h.press(officer, "rt:statement_waiver")
        log["waiver_fields"] = await fill(h, ["本人放弃陈述申辩权利", "当事人签名的放弃声明"])
        log["waiver"] = await h.press(officer, "rc:ok")
        log["waiver_signed"] = await sign(h, "sr:party", "sn:d", method="seal")

        # The decision: a fine and an ordered correction within 15 days (A29.1).
        await h.say(officer, "/record")
        await h.press(officer, "rt:decision")
        log["decision_fields"] = await fill(h, [
            "责令改正，罚款五千元", "未取得施工许可擅自施工", "《建筑法》第六十四条", REMEDY,
            "rf:b1", pay_by.isoformat(), "5000", "rf:b1", "15", "rf:skip", "rf:skip",
            "rf:skip", "rf:skip", "rf:skip"])  # social impact, licence, remedies (issue 10)
        log["decision"] = await h.press(officer, "rc:ok")

        # Service stage: lodged service, signed by the server and a witness, with video (A26.1).
        await h.say(officer, "/stage")
        log["to_service"] = await h.press(officer, "st:service")
        log["serve"] = await h.say(officer, "/serve")
        await h.press(officer, "rt:service_lodged")
        log["lodged_fields"] = await fill(h, [
            h.labelled(officer, "行政执法决定书"), "周建国", "受送达人拒绝签收",
            "岳阳某建设有限公司办公室", "黄敏", "rf:skip"])
        log["lodged"] = await h.press(officer, "rc:ok")
        log["lodged_server"] = await sign(h, "sv:0")
        log["lodged_witness"] = await sign(h, "sr:witness", "sn:d")
        video = phone_video(*SITE, datetime.now(UTC) - timedelta(minutes=2))
        log["video"] = await h.send(fake.media(officer, "video", video, mime_type="video/mp4"))
        log["video_verdict"] = await h.press(officer, "pv:4")  # 文书送达过程
        log["service_checklist"] = await h.say(officer, "/checklist")

        # The deadline reminder: nothing is due yet; the clock moves to the officer's A29.1
        # reminder (one working day before the correction check is due) and the worker
        # sweeps and delivers through the real Telegram channel to the fake server.
        channels = build_channels(container, NotifyConfig(),
                                  emit=lambda *event: emitted.append(event))
        worker = InprocessWorker(container, channels, NotifyConfig(), WorkerConfig())
        mark = fake.mark()
        log["sweep_early"] = await asyncio.to_thread(worker.run_once)
        log["sent_early"] = fake.methods(mark)
        with container.uow() as uow:
            reminder = uow.session.execute(
                select(Reminder).join(Deadline, Deadline.id == Reminder.deadline_id)
                .where(Deadline.rule_id == "A29.1", Reminder.recipient_role == "officer",
                       Reminder.step == "before")).scalar_one()
            log["send_at"] = reminder.send_at
        clock.set(log["send_at"] + timedelta(minutes=1))
        mark = fake.mark()
        log["sweep"] = await asyncio.to_thread(worker.run_once)
        log["reminder_calls"] = [c for c in fake.calls[mark:] if c.method == "sendMessage"]
        log["reminded"] = fake.sent(officer["id"], mark)
        log["reminded_colleague"] = fake.sent(colleague["id"], mark)
        # The colleague, with no active case yet, opens it from the reminder's button.
        log["colleague_before"] = await h.say(colleague, "/checklist")
        log["reminder_button"] = h.buttons(colleague)[0]
        log["opened_from_reminder"] = await h.press(colleague, log["reminder_button"])
        log["colleague_checklist"] = await h.say(colleague, "/checklist")

    play(container, fake, script, base_url=api_server.url)

    with container.uow() as uow:
        s = uow.session
        case = s.execute(select(Case)).scalar_one()
        records = {r.type: r for r in s.execute(select(Record)).scalars()}
        by_id = {r.id: r for r in records.values()}
        approvals = s.execute(select(Approval).order_by(Approval.at)).scalars().all()
        sigs = s.execute(select(Signature).order_by(Signature.created_at)).scalars().all()
        refusal = s.execute(select(Refusal)).scalar_one()
        stages = s.execute(select(StageChange.to_stage).order_by(StageChange.at)
                           ).scalars().all()
        items = s.execute(select(Evidence).order_by(Evidence.created_at)).scalars().all()
        deadlines = s.execute(select(Deadline).order_by(Deadline.created_at)).scalars().all()
        reminders = s.execute(select(Reminder)).scalars().all()
        outbox = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        reads = s.execute(select(AccessLog).where(AccessLog.channel == "telegram")
                          ).scalars().all()
        report = ledger.verify(s, uow.signer, uow.blobs)
    n = case.number
    decision, notice = records["decision"], records["rights_notice"]
    direct, lodged = records["service_direct"], records["service_lodged"]

    # Every reply, step by step: binding, opening and filing (A10.1).
    waiting = "下一步还缺：立案审批表经负责人批准（A10.1）"
    assert log["opened"] == [f"✅ 已立案登记：{n}（当前案件）。\n{waiting}"]
    assert log["filed"] == [f"✅ 已记录：立案审批表（{n}）。\n{waiting}",
                            "已提交审批，已通知：王强。"]
    assert log["unit"] == [f"✅ 您已同意（承办机构意见）：立案审批表 {n}。"]
    assert log["head"] == [f"✅ 您已同意（负责人审批）：立案审批表 {n}。"]
    assert log["stage"] == [f"✅ {n} 已进入“调查取证”。\n下一步还缺：已制作调查取证文书（A13.1）"]

    # The inquiry record (A14.1), its signatures and the refusal (A13.2, A22.2).
    assert log["pick"] == [f"{n}：要填写哪种文书？"]
    assert log["officers"][0].startswith("询问笔录 是现场文书，须两名以上持证执法人员（A14.1）")
    questions = [r[-1] for r in log["fields"]]
    assert questions[0] == "询问笔录（1/12）被询问人：请输入"
    assert questions[1] == "询问笔录（2/12）被询问人身份证号（选填）：请输入"
    assert questions[2] == "询问笔录（3/12）被询问人身份：请选择"
    assert questions[7] == "询问笔录（8/12）已出示执法证件：请选择"
    assert questions[8] == "询问笔录（9/12）当事人是否申请回避：请选择"
    # The recusal outcome, reason and recused officers are not asked: no recusal (A14.1).
    assert questions[9].startswith("请核对 询问笔录：\n被询问人: 张三\n被询问人身份: 当事人\n")
    assert "已出示执法证件: 是\n当事人是否申请回避: 否\n同行人员: 李娜" in questions[9]
    sign_gap = "文书已由执法人员、当事人及有关人员签名、捺印或盖章，或已记录拒签（A13.2）"
    assert log["inquiry"] == [f"✅ 已记录：询问笔录（{n}）。\n下一步还缺：{sign_gap}"]
    assert log["signed"][0] == [
        "✅ 已记录 张伟（执法人员）的签名。\n该文书还缺：执法人员 李娜 未签名（A13.2）；"
        f"被询问人签名、指印、盖章或拒签记录（A13.2）\n下一步还缺：{sign_gap}"]
    assert log["signed"][1] == [
        "✅ 已记录 李娜（执法人员）的签名。\n"
        f"该文书还缺：被询问人签名、指印、盖章或拒签记录（A13.2）\n下一步还缺：{sign_gap}"]
    assert log["refuse"] == ["拒绝什么？"]
    assert log["proof"] == ["拒签须有见证人签名或录像证明（A22.2）："]
    assert log["witness"] == [["已添加 1 位见证人。"], ["已添加 2 位见证人。"]]
    assert log["refuse_summary"] == [
        "请核对：\n拒绝签名 · 询问笔录\n拒绝人：张三（被询问人）\n理由：拒绝签名，未说明理由\n"
        "地点：岳阳市岳阳楼区某路1号工地\n见证人：刘一（村委会工作人员）、陈二（村委会工作人员）\n录像：—"]
    ready = "本阶段已齐全，可用 /stage 进入“{}”。"
    assert log["refused"] == ["✅ 拒绝情况已记录（见证人 2 位）。\n该文书签名已齐全。\n"
                              + ready.format("审查决定")]

    # Evidence from the chat: the file is verified by its GPS, the compressed photo flagged.
    assert log["file"][0].startswith("已收到 IMG_0001.jpg")
    assert log["file_verdict"][0].startswith(
        "✅ 证据已登记（已核验）\n✅ 位置：GPS位置距现场0米（允许半径200米）\n✅ 拍摄时间：")
    assert "设备：Xiaomi 14\n哈希：" in log["file_verdict"][0]
    assert log["compressed"][0].startswith("⚠ 这是压缩后的照片")
    assert log["compressed"][1].startswith("已收到 photo.jpg")
    assert log["compressed_verdict"][0].startswith(
        "⚠ 证据已登记（未核验）\n"
        "⚠ 位置：文件中没有GPS位置；上传时手机报告的位置距现场0米（±10米）")
    assert "设备：未知" in log["compressed_verdict"][0]
    assert log["checklist"][0].startswith(
        f"{n}（调查取证）本阶段要求：\n✅ 已制作调查取证文书（A13.1）")
    assert log["tasks"] == [
        f"我的期限（超期在前）：\n⏳ {_due(deadlines, 'N7')} {n} N7：行政处罚决定期限"]
    assert log["open"] == [
        f"当前案件：{n} 未取得施工许可擅自施工\n类别：行政处罚；启动方式：依职权；阶段：调查取证\n"
        + ready.format("审查决定")]

    # Decision stage (A19.1, A18.1, A22.1, A22.3).
    notice_gaps = "已送达陈述申辩权利告知书（A22.1）；陈述申辩期限已届满或当事人已放弃（A22.1）"
    assert log["to_decision"] == [
        f"✅ {n} 已进入“审查决定”。\n下一步还缺：已制作案件处理意见（A19.1）；{notice_gaps}；"
        "案件处理意见已经行政机关负责人批准（A18.1）；已作出行政执法决定（A18.1）"]
    questions = [r[-1] for r in log["opinion_fields"]]
    assert questions[0] == "案件处理意见书（审批表）（2/13）证据采信：请输入"
    assert questions[8] == "案件处理意见书（审批表）（10/13）是否需要法制审核：请选择"
    assert questions[12].startswith("请核对 案件处理意见书（审批表）：\n"
                                   "当事人情况: 岳阳某建设有限公司（91430600MA4L000000）\n")
    assert questions[12].endswith("是否需要专家论证: 否\n是否需要法制审核: 否")
    assert log["opinion"] == [
        f"✅ 已记录：案件处理意见书（审批表）（{n}）。\n下一步还缺：{notice_gaps}；"
        "案件处理意见已经行政机关负责人批准（A18.1）；已作出行政执法决定（A18.1）",
        "已提交审批，已通知：王强。"]
    assert log["opinion_unit"] == [
        f"✅ 您已同意（承办机构审核意见）：案件处理意见书（审批表） {n}。"]
    assert log["opinion_to_head"][0].startswith(
        f"📝 待审批：案件处理意见书（审批表）\n案件：{n} 未取得施工许可擅自施工\n")
    assert log["opinion_to_head"][0].endswith("请您：行政机关负责人审批意见")
    assert log["opinion_head"] == [
        f"✅ 您已同意（行政机关负责人审批意见）：案件处理意见书（审批表） {n}。"]
    assert log["opinion_to_officer"] == [
        f"案件处理意见书（审批表）（{n}）：王强 已同意（承办机构审核意见）。",
        f"✅ 案件处理意见书（审批表）（{n}）审批完成。\n下一步还缺：{notice_gaps}；"
        "已作出行政执法决定（A18.1）"]
    questions = [r[-1] for r in log["notice_fields"]]
    assert questions[4] == "陈述申辩权利告知书（6/10）陈述、申辩的期限（工作日）：请输入整数"
    assert questions[9].endswith("陈述、申辩的期限（工作日）: 5\n是否告知听证权利: 否")
    assert log["notice"] == [f"✅ 已记录：陈述申辩权利告知书（{n}）。\n下一步还缺：{notice_gaps}；"
                             "已作出行政执法决定（A18.1）"]
    assert log["serve_notice"] == [f"{n}：要填写哪种文书？"]
    questions = [r[-1] for r in log["direct_fields"]]
    assert questions[:4] == ["送达回证（直接送达）（2/5）受送达人：请输入",
                             "送达回证（直接送达）（3/5）签收人：请输入",
                             "送达回证（直接送达）（4/5）签收人身份：请选择",
                             "送达回证（直接送达）（5/5）送达地点：请输入"]
    assert questions[4].startswith(
        f"请核对 送达回证（直接送达）：\n送达的文书（记录编号）: {notice.id}\n受送达人: 周建国\n")
    # 民诉 Art. 88: direct service is dated when the recipient signs, not when it is written.
    assert "served_at" not in direct.fields
    direct_gap = "直接送达回证已由送达人、受送达人签名或盖章（A24.1）"
    assert log["direct"][0].startswith(f"✅ 已记录：送达回证（直接送达）（{n}）。\n{RECEIPT}\n"
                                       "下一步还缺：")
    assert log["direct"][0].endswith(f"下一步还缺：{notice_gaps}；{direct_gap}；"
                                     "已作出行政执法决定（A18.1）")
    assert log["direct_server"] == [
        "✅ 已记录 张伟（送达人）的签名。\n"
        "该文书还缺：受送达人签名、指印、盖章或拒签记录（A24.1）\n"
        f"下一步还缺：{notice_gaps}；{direct_gap}；已作出行政执法决定（A18.1）"]
    assert log["direct_recipient"] == [
        f"✅ 已记录 周建国（受送达人）的签名。\n该文书签名已齐全。\n{RECEIPT}\n"
        "下一步还缺：陈述申辩期限已届满或当事人已放弃（A22.1）；已作出行政执法决定（A18.1）"]
    assert log["waiver_fields"] == [
        ["放弃陈述申辩记录（2/2）收存的相关证据：请输入"],
        ["请核对 放弃陈述申辩记录：\n当事人放弃陈述申辩的表示: 本人放弃陈述申辩权利\n"
         "收存的相关证据: 当事人签名的放弃声明"]]
    assert log["waiver"] == [
        f"✅ 已记录：放弃陈述申辩记录（{n}）。\n"
        f"下一步还缺：陈述申辩期限已届满或当事人已放弃（A22.1）；{sign_gap}；"
        "已作出行政执法决定（A18.1）"]
    assert log["waiver_signed"] == [
        "✅ 已记录 岳阳某建设有限公司（当事人）的签名。\n该文书签名已齐全。\n"
        "下一步还缺：已作出行政执法决定（A18.1）"]
    questions = [r[-1] for r in log["decision_fields"]]
    assert questions[4] == "行政执法决定书（6/14）履行期限：格式 2026-11-26，或点“今天”"
    assert questions[7] == "行政执法决定书（9/14）改正期限（日）：请输入整数"
    assert questions[13].endswith(f"履行期限: {pay_by.isoformat()}\n罚款金额（元）: 5000\n"
                                  "是否责令改正: 是\n改正期限（日）: 15")
    assert log["decision"] == [f"✅ 已记录：行政执法决定书（{n}）。\n" + ready.format("送达执行")]

    # Service stage: the decision lodged (A23.1, A26.1, N20) with its video.
    a29 = "已记录当事人履行情况（A29.1）；已按期核查改正情况（A29.1）"
    assert log["to_service"] == [
        f"✅ {n} 已进入“送达执行”。\n下一步还缺：决定书已送达并留存送达回证（A23.1）；{a29}"]
    assert log["serve"] == [f"{n}：要填写哪种文书？"]
    questions = [r[-1] for r in log["lodged_fields"]]
    assert questions[3] == "送达回证（留置送达）（5/6）见证人：请输入"
    assert questions[5] == (
        f"请核对 送达回证（留置送达）：\n送达的文书（记录编号）: {decision.id}\n受送达人: 周建国\n"
        "留置事由: 受送达人拒绝签收\n留置地点: 岳阳某建设有限公司办公室\n见证人: 黄敏")
    at = _local(lodged.fields["served_at"])
    lodged_gaps = ("留置送达回证已由送达人、见证人签名或盖章（A26.1）；"
                   "留置送达已以音像记录送达过程（A26.1）")
    # The served date's rule is shown as core words it (N20 …), whatever its language.
    saved, served, *rest = log["lodged"][0].split("\n")
    assert saved == f"✅ 已记录：送达回证（留置送达）（{n}）。"
    assert served.startswith(f"视为送达时间：{at}（N20")
    assert rest == [RECEIPT, "此文书须有音像记录（A26.1）：请现在以文件方式发送录像或录音，"
                    "将自动关联到本文书。",
                    f"下一步还缺：决定书已送达并留存送达回证（A23.1）；{a29}；{lodged_gaps}"]
    assert len(log["lodged"]) == 1
    assert log["lodged_server"] == [
        "✅ 已记录 张伟（送达人）的签名。\n该文书还缺：见证人签名、指印、盖章或拒签记录（A26.1）；"
        "关联的录像、照片（留置送达的过程）（A26.1）\n"
        f"下一步还缺：决定书已送达并留存送达回证（A23.1）；{a29}；{lodged_gaps}"]
    assert log["lodged_witness"] == [
        "✅ 已记录 黄敏（见证人）的签名。\n"
        f"该文书还缺：关联的录像、照片（留置送达的过程）（A26.1）\n{RECEIPT}\n"
        f"下一步还缺：决定书已送达并留存送达回证（A23.1）；{a29}；"
        "留置送达已以音像记录送达过程（A26.1）"]
    sha = next(e.sha256 for e in items if e.method == "telegram_video")[:8]
    assert log["video"] == [
        f"已收到 video.mp4（16 KB，SHA-256 {sha}…）。这份材料证明什么（A31.1）？"]
    assert log["video_verdict"][0].startswith(
        "✅ 证据已登记（已核验）\n✅ 位置：GPS位置距现场0米（允许半径200米）\n"
        "✅ 拍摄时间：拍摄于上传前")
    assert f"\n设备：Xiaomi 14\n哈希：{sha}…\n🔗 已关联到：送达回证（留置送达）（" in \
        log["video_verdict"][0]  # which record the video was linked to, told by its time
    assert log["video_verdict"][0].endswith(f"）\n下一步还缺：{a29}")
    assert log["service_checklist"] == [
        f"{n}（送达执行）本阶段要求：\n✅ 决定书已送达并留存送达回证（A23.1）\n"
        "⬜ 已记录当事人履行情况（A29.1）\n⬜ 已按期核查改正情况（A29.1）\n"
        "✅ 留置送达回证已由送达人、见证人签名或盖章（A26.1）\n"
        f"✅ 留置送达已以音像记录送达过程（A26.1）\n下一步还缺：{a29}"]

    # The reminder: none before its time; then one, to each officer on the case, with the
    # case number, the rule ID and a button that opens the case.
    assert log["sweep_early"].reminders == 0 and log["sweep_early"].outbox_ids == []
    assert "sendMessage" not in log["sent_early"]
    assert log["sweep"].reminders == 1 and log["sweep"].failed_reminders == []
    a29_row = next(d for d in deadlines if d.rule_id == "A29.1")
    due = a29_row.due_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    text = (f"【期限提醒】{n} A29.1 责令改正后按期核查\n\n"
            f"【期限提醒】案件 {n}「未取得施工许可擅自施工」：责令改正后按期核查（A29.1）"
            f"将于 {due} 到期（北京时间）。依据：{a29_row.legal_source}。")
    assert log["reminded"] == [text] and log["reminded_colleague"] == [text]
    button = {"inline_keyboard": [[{"text": f"打开案件 {n}", "callback_data": f"oc:{case.id}"}]]}
    assert sorted((int(c.params["chat_id"]), c.params["reply_markup"] == button)
                  for c in log["reminder_calls"]) == [(10001, True), (10002, True)]
    assert log["colleague_before"] == ["请先选择案件：/cases 或 /case 编号；新案件用 /new。"]
    assert log["reminder_button"] == f"oc:{case.id}"
    assert log["opened_from_reminder"] == [
        f"当前案件：{n} 未取得施工许可擅自施工\n类别：行政处罚；启动方式：依职权；阶段：送达执行\n"
        f"下一步还缺：{a29}"]
    assert log["colleague_checklist"] == log["service_checklist"]

    # The database: what the bot did is what the services recorded.
    assert case.stage == "service" and stages == ["investigation", "decision", "service"]
    chains = {}
    for a in approvals:
        chains.setdefault(by_id[a.record_id].type, []).append((a.step, a.decision))
    steps = [("officer", "approve"), ("unit", "approve"), ("head", "approve")]
    assert chains == {"filing_form": steps, "handling_opinion": steps}
    assert [a.officer_id for a in approvals if a.step == "head"] == [people["陈静"]["id"]] * 2
    inquiry = records["inquiry_record"]
    assert inquiry.officers == [people["张伟"]["id"], people["李娜"]["id"]]
    assert inquiry.fields["interviewee_name"] == "张三"
    assert inquiry.fields["interviewee_role"] == "party"
    assert inquiry.fields["recusal_requested"] is False
    assert records["handling_opinion"].fields["legal_review_required"] is False
    assert notice.fields["response_period_working_days"] == 5
    assert notice.fields["hearing_right"] is False
    assert {k: decision.fields[k] for k in ("obligation", "performance_deadline",
                                            "fine_amount_yuan", "correction_ordered",
                                            "correction_period_days")} == {
        "obligation": True, "performance_deadline": pay_by.isoformat(),
        "fine_amount_yuan": 5000, "correction_ordered": True, "correction_period_days": 15}
    assert direct.fields["document_id"] == notice.id
    assert direct.fields["signer_relation"] == "legal_representative"
    assert lodged.fields["document_id"] == decision.id
    assert lodged.fields["witness_name"] == "黄敏"
    assert lodged.fields["served_rule"].startswith("N20")
    assert [(by_id[s.record_id].type, s.role, s.signer_name, s.method) for s in sigs] == [
        ("inquiry_record", "officer", "张伟", "signature"),
        ("inquiry_record", "officer", "李娜", "signature"),
        ("service_direct", "server", "张伟", "signature"),
        ("service_direct", "recipient", "周建国", "signature"),
        ("statement_waiver", "party", "岳阳某建设有限公司", "seal"),
        ("service_lodged", "server", "张伟", "signature"),
        ("service_lodged", "witness", "黄敏", "signature")]
    assert all(s.image_sha256 for s in sigs)
    assert [s.signer_officer_id for s in sigs if s.role == "server"] == [people["张伟"]["id"]] * 2
    assert (refusal.role, refusal.person_name, refusal.refused) == ("interviewee", "张三", "sign")
    assert [w["name"] for w in refusal.witnesses] == ["刘一", "陈二"]
    assert all(len(w["signature_sha256"]) == 64 for w in refusal.witnesses)

    # Evidence: the two photos, the video linked to the lodged service, and the 送达回证 PDFs.
    media = [e for e in items if e.method != "generated"]
    assert [(e.assurance, e.method, e.proves, e.record_id) for e in media] == [
        ("verified", "telegram_document", "现场情况", None),
        ("unverified", "telegram_photo_compressed", "现场情况", None),
        ("verified", "telegram_video", "文书送达过程", lodged.id)]
    assert media[0].filename == "IMG_0001.jpg" and media[0].media_type == "image/jpeg"
    assert media[2].media_type == "video/mp4"
    receipts = sorted((by_id[e.record_id].type, e.meta["final"]) for e in items
                      if e.method == "generated")
    assert receipts == [("service_direct", False), ("service_direct", True),
                        ("service_lodged", False), ("service_lodged", True)]

    # Deadlines opened and closed by the events (core.deadlines.tracking), reminders and deliveries.
    state = {d.rule_id: (d.status, d.closed_by) for d in deadlines if d.rule_id != "A31.1"}
    assert state == {"N7": ("closed", "decision.made"),
                     "A22.1": ("closed", "record.statement_waiver.created"),
                     "N8": ("closed", "decision.served"),
                     "N9": ("open", None), "A29.1": ("open", None), "N15": ("open", None)}
    assert [d.status for d in deadlines if d.rule_id == "A31.1"] == ["closed"] * 3
    assert (a29_row.trigger_event, a29_row.period) == ("correction_order.served", 15)
    done = [r for r in reminders if r.status == "done"]
    assert [(r.deadline_id, r.recipient_role, r.step) for r in done] == [
        (a29_row.id, "officer", "before")]
    assert sorted((m.channel, m.recipient, m.status) for m in outbox if m.reminder_id) == [
        ("socketio", people["department"]["id"], "sent"),
        ("socketio", people["department"]["id"], "sent"),
        ("telegram", "10001", "sent"), ("telegram", "10002", "sent")]
    # A10.1, A18.1: both chains' requests and answers went through the outbox, all delivered:
    # to the supervisor and the head (requests), and to the officer (progress and the end).
    asked = sorted((m.payload["event"], m.recipient) for m in outbox
                   if m.channel == "telegram" and m.payload.get("event", "").startswith("approval"))
    assert asked == sorted([("approval.requested", "10003"), ("approval.requested", "10004"),
                            ("approval.approve", "10001"), ("approval.approve", "10001")] * 2)
    assert all(m.status == "sent" for m in outbox)
    assert [e[0] for e in emitted] == ["deadline", "deadline"]
    assert {r.subject_type for r in reads} >= {"case"}

    # The ledger recomputes from the rows and blobs without a single damage.
    assert report.ok, [d.message for d in report.damages]
    assert report.entries >= 30


def _local(iso: str) -> str:
    """An ISO time as the bot shows it: Beijing time to the minute."""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _due(deadlines, rule_id: str) -> str:
    """A deadline's due time as /tasks shows it."""
    row = next(d for d in deadlines if d.rule_id == rule_id)
    return row.due_at.astimezone(BEIJING).strftime("%m-%d %H:%M")

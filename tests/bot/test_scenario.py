"""One case played through the bot only, as far as the services go today: bind, open, the
filing form approved by the supervisor then the head (A10.1), investigation (A3.1), an
inquiry record with two certified officers (A14.1) signed by the officers and refused by the
interviewee before two witnesses (A13.2, A22.2), evidence from the chat (A31.1), the
checklist and the deadlines; then the database, the ledger and every reply are checked."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core import ledger
from core.models import (
    AccessLog,
    Approval,
    Case,
    Evidence,
    Record,
    Refusal,
    Signature,
    StageChange,
)
from tests.bot.support import bind, filing_form, jpeg_with_gps, open_case, plain_jpeg, play

SITE = (29.3573, 113.1290)
BEIJING = ZoneInfo("Asia/Shanghai")


def test_whole_case_through_the_bot(container, people, fake):
    """A10.1 A3.1 A14.1 A13.2 A22.2 A31.1: the scenario of issue 6, through the bot only."""
    officer, colleague = fake.user(10001, "张伟"), fake.user(10002, "李娜")
    supervisor, head = fake.user(10003, "王强"), fake.user(10004, "陈静")
    evidence_service = "core.evidence" in sys.modules or _importable("core.evidence")
    log = {}

    async def script(h):
        for user, name in ((officer, "张伟"), (colleague, "李娜"), (supervisor, "王强"),
                           (head, "陈静")):
            await bind(h, container, user, people[name]["id"])
        log["opened"] = await open_case(h, officer)
        log["filed"] = await filing_form(h, officer)
        log["unit"] = await h.press(supervisor, h.buttons(supervisor)[0])
        log["head"] = await h.press(head, h.buttons(head)[0])
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
        for who in ("so:0", "so:0"):
            await h.say(officer, "/sign")
            await h.press(officer, "sg:0")  # the newest record first: the inquiry
            await h.press(officer, who)
            await h.press(officer, "sm:signature")
            log.setdefault("signed", []).append(
                await h.send(fake.photo(officer, plain_jpeg())))
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
        opened = [b for b in h.buttons(officer) if b.startswith("oc:")]
        log["open"] = await h.press(officer, opened[0]) if opened else []

    play(container, fake, script)

    with container.uow() as uow:
        s = uow.session
        case = s.execute(select(Case)).scalar_one()
        records = {r.type: r for r in s.execute(select(Record)).scalars()}
        approvals = s.execute(select(Approval).order_by(Approval.at)).scalars().all()
        sigs = s.execute(select(Signature)).scalars().all()
        refusal = s.execute(select(Refusal)).scalar_one()
        stages = s.execute(select(StageChange.to_stage)).scalars().all()
        reads = s.execute(select(AccessLog).where(AccessLog.channel == "telegram")
                          ).scalars().all()
        report = ledger.verify(s, uow.signer, uow.blobs)
    n = case.number

    # Every reply, step by step.
    waiting = "下一步还缺：立案审批表经负责人批准（A10.1）"
    assert log["opened"] == [f"✅ 已立案登记：{n}（当前案件）。\n{waiting}"]
    assert log["filed"] == [f"✅ 已记录：立案审批表（{n}）。\n{waiting}",
                            "已提交审批，已通知：王强。"]
    assert log["unit"] == [f"✅ 您已同意（承办机构意见）：立案审批表 {n}。"]
    assert log["head"] == [f"✅ 您已同意（负责人审批）：立案审批表 {n}。"]
    assert log["stage"][0].startswith(f"✅ {n} 已进入“调查取证”。\n")
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
    assert log["inquiry"][0].startswith(f"✅ 已记录：询问笔录（{n}）。")
    assert log["signed"][0][0].startswith("✅ 已记录 张伟（执法人员）的签名。\n该文书还缺：")
    assert log["signed"][1][0].startswith(
        "✅ 已记录 李娜（执法人员）的签名。\n该文书还缺：被询问人签名")
    assert log["refuse"] == ["拒绝什么？"]
    assert log["proof"] == ["拒签须有见证人签名或录像证明（A22.2）："]
    assert log["witness"][0] == ["已添加 1 位见证人。"]
    assert log["witness"][1] == ["已添加 2 位见证人。"]
    assert log["refuse_summary"][0] == (
        "请核对：\n拒绝签名 · 询问笔录\n拒绝人：张三（被询问人）\n理由：拒绝签名，未说明理由\n"
        "地点：岳阳市岳阳楼区某路1号工地\n见证人：刘一（村委会工作人员）、陈二（村委会工作人员）\n录像：—")
    assert log["refused"][0].startswith("✅ 拒绝情况已记录（见证人 2 位）。\n该文书签名已齐全。")
    assert log["file"][0].startswith("已收到 IMG_0001.jpg")
    assert log["compressed"][0].startswith("⚠ 这是压缩后的照片")
    if evidence_service:  # core.evidence.intake, the capture issue's service
        from core.evidence import wait_for_previews

        wait_for_previews()
        assert log["file_verdict"][0].startswith(
            "✅ 证据已登记（已核验）\n✅ 位置：GPS位置距现场0米（允许半径200米）\n✅ 拍摄时间：")
        assert "设备：Xiaomi 14\n哈希：" in log["file_verdict"][0]
        assert log["compressed_verdict"][0].startswith(
            "⚠ 证据已登记（未核验）\n"
            "⚠ 位置：文件中没有GPS位置；上传时手机报告的位置距现场0米（±10米）")
        assert "设备：未知" in log["compressed_verdict"][0]
        with container.uow() as uow:
            items = uow.session.execute(select(Evidence).order_by(Evidence.created_at)
                                        ).scalars().all()
        assert [(e.assurance, e.method, e.proves) for e in items] == [
            ("verified", "telegram_document", "现场情况"),
            ("unverified", "telegram_photo_compressed", "现场情况")]
        assert items[0].filename == "IMG_0001.jpg" and items[0].media_type == "image/jpeg"
    else:
        assert log["file_verdict"][0].startswith("证据登记服务尚未开放。文件已暂存")
    assert log["checklist"][0].startswith(f"{n}（调查取证）本阶段要求：")
    assert log["tasks"][0].startswith(("我的期限（超期在前）：", "您的案件没有未完成的期限。"))
    if log["open"]:  # a deadline's button opens its case (as a reminder's button would)
        assert log["open"][0].startswith(f"当前案件：{n} ")

    # The database: what the bot did is what the services recorded.
    assert case.stage == "investigation" and stages == ["investigation"]
    assert [(a.step, a.decision) for a in approvals] == [
        ("officer", "approve"), ("unit", "approve"), ("head", "approve")]
    inquiry = records["inquiry_record"]
    assert inquiry.officers == [people["张伟"]["id"], people["李娜"]["id"]]
    assert inquiry.fields["interviewee_name"] == "张三"
    assert inquiry.fields["interviewee_role"] == "party"
    assert inquiry.fields["recusal_requested"] is False
    assert sorted(s.signer_name for s in sigs) == ["张伟", "李娜"]
    assert all(s.image_sha256 and s.method == "signature" for s in sigs)
    assert (refusal.role, refusal.person_name, refusal.refused) == ("interviewee", "张三", "sign")
    assert [w["name"] for w in refusal.witnesses] == ["刘一", "陈二"]
    assert all(len(w["signature_sha256"]) == 64 for w in refusal.witnesses)
    assert {r.subject_type for r in reads} >= {"case"}
    # The ledger recomputes from the rows and blobs without a single damage.
    assert report.ok, [d.message for d in report.damages]
    assert report.entries >= 10


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False

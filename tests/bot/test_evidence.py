"""Evidence from the chat (A31.1, A17.1): files are downloaded, asked what they prove, handed
to capture intake and answered with the verdict; compressed photos are flagged; locations
are kept with their accuracy; forwarded items are not first-hand; over 20 MB gets a link."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.bot.support import bind, jpeg_with_gps, open_case, plain_jpeg, play


@pytest.fixture
def intake_calls(monkeypatch):
    """The bot's ports to evidence intake and upload links, replaced by recorders (the real
    services are tested in tests/evidence)."""
    from core.evidence import intake as intake_service
    from core.evidence import uploads

    calls = []

    def intake(uow, actor, case_id, *, path, filename, declared_type, proves, method, **loc):
        calls.append({"case_id": case_id, "bytes": Path(path).read_bytes(), "filename": filename,
                      "declared_type": declared_type, "proves": proves, "method": method,
                      "actor": actor.name, **loc})
        compressed = "compressed" in method
        return {"id": "e" * 32, "sha256": "ab12cd34" + "0" * 56, "size": 10,
                "media_type": "image/jpeg",
                "metadata": {"taken_at": None if compressed else
                             datetime.now(UTC).isoformat(), "make": None if compressed else
                             "Xiaomi", "model": None if compressed else "14"},
                "checks": [
                    {"name": "type", "status": "pass", "detail": "JPEG", "detail_zh": "JPEG"},
                    {"name": "gps_distance", "status": "warn" if compressed else "pass",
                     "detail": "GPS 38 m from the site",
                     "detail_zh": "文件中没有GPS位置信息" if compressed else "GPS位置距现场38米"},
                    {"name": "capture_time", "status": "warn" if compressed else "pass",
                     "detail": "taken 2 min ago", "detail_zh": "拍摄于2分钟前"},
                    {"name": "editing_software", "status": "pass", "detail": "",
                     "detail_zh": ""}],
                "assurance": "unverified" if compressed else "verified"}

    def issue_upload_link(uow, actor, case_id):
        return {"url": f"https://qc.example/u/{case_id[:6]}",
                "expires_at": "2026-11-27T02:00:00+00:00"}

    monkeypatch.setattr(intake_service, "intake", intake)
    monkeypatch.setattr(uploads, "issue_upload_link", issue_upload_link)
    return calls


def _setup(h, container, people, user):
    async def run():
        await bind(h, container, user, people["张伟"]["id"])
        await open_case(h, user)
    return run()


def test_file_to_intake_with_verdict(container, people, fake, intake_calls):
    """A JPEG sent as a file: hash prefix, what it proves (buttons), then intake's verdict
    with distance, capture time, device, hash and assurance; the location sent before is
    passed as the phone's reported position with its accuracy (A31.1, A17.1)."""
    user = fake.user(9101)
    photo = jpeg_with_gps(29.3573, 113.1290, datetime.now(UTC).astimezone())

    async def script(h):
        await _setup(h, container, people, user)
        loc = await h.send(fake.location(user, 29.3574, 113.1291, accuracy=8, live_period=600))
        got = await h.send(fake.document(user, photo, "IMG_0001.jpg", "image/jpeg"))
        buttons = h.buttons(user)
        verdict = await h.press(user, "pv:0")
        return loc, got, buttons, verdict

    loc, got, buttons, verdict = play(container, fake, script)
    assert loc == ["📍 位置已记录（精度约 8 米，实时位置），将用于核对随后上传的材料。"]
    import hashlib

    sha = hashlib.sha256(photo).hexdigest()
    assert got == [f"已收到 IMG_0001.jpg（{len(photo) / 1024:.0f} KB，SHA-256 {sha[:8]}…）。"
                   "这份材料证明什么（A31.1）？"]
    assert buttons[:6] == ["pv:0", "pv:1", "pv:2", "pv:3", "pv:4", "pv:o"]
    assert verdict[0].startswith("✅ 证据已登记（已核验）\n✅ 位置：GPS位置距现场38米\n"
                                 "✅ 拍摄时间：拍摄于2分钟前\n"
                                 "设备：Xiaomi 14\n哈希：ab12cd34…")
    assert "下一步还缺" in verdict[0]
    call = intake_calls[0]
    assert call["bytes"] == photo and call["filename"] == "IMG_0001.jpg"
    assert (call["proves"], call["method"], call["declared_type"]) == (
        "现场情况", "telegram_document", "image/jpeg")
    assert (call["lat"], call["lon"], call["accuracy"]) == (29.3574, 113.1291, 8)
    assert list((container.blobs.tmp_dir / "bot_inbox").iterdir()) == []


def test_compressed_photo_flagged_and_typed_proves(container, people, fake, intake_calls):
    """A compressed photo is sent on as unverified with how to send the original as a file;
    an object of proof can be typed."""
    user = fake.user(9102)

    async def script(h):
        await _setup(h, container, people, user)
        got = await h.send(fake.photo(user, plain_jpeg()))
        other = await h.press(user, "pv:o")
        verdict = await h.say(user, "违法建设的外观")
        return got, other, verdict

    got, other, verdict = play(container, fake, script)
    assert got[0].startswith("⚠ 这是压缩后的照片：Telegram 会删除拍摄时间和GPS，只能记为“未核验”。")
    assert "以“文件”方式发送原图" in got[0]
    assert other == ["请输入证明对象："]
    assert verdict[0].startswith("⚠ 证据已登记（未核验）\n⚠ 位置：文件中没有GPS位置信息")
    assert "设备：未知" in verdict[0]
    assert intake_calls[0]["method"] == "telegram_photo_compressed"
    assert intake_calls[0]["proves"] == "违法建设的外观"


def test_files_queue_and_forwarded_not_first_hand(container, people, fake, intake_calls):
    """A second file while the first waits is kept and asked next; a forwarded file is
    marked not first-hand; a voice note goes the same way."""
    user = fake.user(9103)

    async def script(h):
        await _setup(h, container, people, user)
        await h.send(fake.document(user, b"%PDF-1.4 a", "a.pdf", "application/pdf",
                                   forwarded=True))
        queued = await h.send(fake.media(user, "voice", b"OggS voice", mime_type="audio/ogg"))
        first = await h.press(user, "pv:1")
        second = await h.press(user, "pv:3")
        return queued, first, second

    queued, first, second = play(container, fake, script)
    assert queued == ["已收到 voice.ogg，排在第 2 个，稍后询问。"]
    assert first[-1].startswith("已收到 voice.ogg")
    assert [c["method"] for c in intake_calls] == [
        "telegram_document_forwarded_not_first_hand", "telegram_voice"]
    assert [c["proves"] for c in intake_calls] == ["当事人及相关人员", "采取的措施"]
    assert second[0].startswith("✅ 证据已登记")


def test_over_20_mb_gets_an_upload_link(container, people, fake, intake_calls):
    """A video over the 20 MB a bot may download gets a one-time upload link instead."""
    user = fake.user(9104)

    async def script(h):
        await _setup(h, container, people, user)
        return await h.send(fake.media(user, "video", b"", size=25 * 1024 * 1024,
                                       mime_type="video/mp4"))

    replies = play(container, fake, script, download_limit=20 * 1024 * 1024)
    assert replies[0] == "文件 25.0 MB 超过机器人可下载的 20 MB。"
    assert replies[1].startswith("请用一次性上传链接上传原文件（2026-11-27 10:00 前有效）：\n"
                                 "https://qc.example/u/")
    assert "getFile" not in fake.methods() and intake_calls == []


def test_a_file_with_no_case_is_kept_and_offered_with_the_cases(container, people, fake,
                                                                intake_calls):
    """Nothing sent is lost: a file sent before any case is chosen is kept and, once a case
    exists, offered with the officer's recent cases as buttons; /cancel while files wait keeps
    them for /inbox."""
    user = fake.user(9106)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        none = await h.send(fake.document(user, b"%PDF x", "x.pdf", "application/pdf"))
        await open_case(h, user)
        queued = await h.send(fake.document(user, b"%PDF y", "y.pdf", "application/pdf"))
        cancelled = await h.say(user, "/cancel")
        again = await h.say(user, "/inbox")
        case_button = next(b for b in h.buttons(user) if b.startswith("pc:"))
        asked = await h.press(user, case_button)
        done = await h.press(user, "pv:2")
        return none, queued, cancelled, again, asked, done

    none, queued, cancelled, again, asked, done = play(container, fake, script)
    assert none[0].startswith("已收到并保存「x.pdf」") and "/new" in none[0]
    assert queued == ["已收到 y.pdf，排在第 2 个，稍后询问。"]
    assert cancelled == ["已取消。2 个文件已暂存，未登记；用 /inbox 重新登记。"]
    assert again[0] == "重新登记 2 个暂存文件…" and "请选择它属于哪个案件" in again[1]
    assert asked[0].startswith("已收到 x.pdf（") and "证明什么" in asked[0]
    assert done[0].startswith("✅ 证据已登记") and intake_calls[0]["proves"] == "关键物品"
    assert intake_calls[0]["filename"] == "x.pdf"


def test_forwarded_text_and_public_files(container, people, fake):
    """Forwarded text is not first-hand; a file from an unbound user gets the public menu."""
    officer, public = fake.user(9107), fake.user(9108)

    async def script(h):
        await bind(h, container, officer, people["张伟"]["id"])
        fwd = await h.send(fake.forwarded_text(officer, "有人在违章施工"))
        pub = await h.send(fake.photo(public, plain_jpeg()))
        return fwd, pub

    fwd, pub = play(container, fake, script)
    assert fwd[0].startswith("⚠ 转发的文字不是第一手材料，未作记录。")
    assert "/complain" in pub[0]


def test_av_required_record_links_the_next_video(container, people, fake, intake_calls):
    """A record that needs AV (A15.1) says so, and the next video sent is linked to it."""
    from tests.bot.support import case_in_investigation

    case_id, number = case_in_investigation(container, people)
    user = fake.user(9109)

    async def script(h):
        await bind(h, container, user, people["张伟"]["id"])
        await h.say(user, f"/case {number}")
        await h.say(user, "/record")
        await h.press(user, "rt:onsite_inspection_record")
        await h.press(user, f"ro:{people['李娜']['id']}")
        await h.press(user, "ro:done")
        await h.press(user, "rf:c0")
        await h.say(user, "工地现场")
        await h.say(user, "当事人项目经理")
        await h.say(user, "正在施工，无施工许可证")
        await h.press(user, "rf:skip")
        await h.press(user, "rf:b1")
        await h.press(user, "rf:b0")
        await h.press(user, "rf:skip")  # no reason: AV will be made
        saved = await h.press(user, "rc:ok")
        await h.send(fake.media(user, "video", b"\x00\x00\x00\x18ftypmp42", mime_type="video/mp4"))
        await h.press(user, "pv:0")
        return saved

    saved = play(container, fake, script)
    assert saved[0].startswith(f"✅ 已记录：现场检查(勘验)笔录（{number}）。\n"
                               "此文书须有音像记录（A15.1）：请现在以文件方式发送录像或录音，将自动关联到本文书。")
    from sqlalchemy import select

    from core.cases.models import Record

    with container.uow() as uow:
        rid = uow.session.execute(select(Record.id).where(
            Record.type == "onsite_inspection_record")).scalar_one()
    assert intake_calls[0]["record_id"] == rid
    assert intake_calls[0]["method"] == "telegram_video"


def test_waiting_file_survives_a_restart(container, people, fake, intake_calls, tmp_path):
    """A file that waits for its object of proof is written to the dialog store at once, so a
    restart before the answer loses nothing (nothing sent is lost)."""
    import asyncio

    from telegram import Update
    from telegram.ext import PicklePersistence

    from bot.app import build_application
    from tests.bot.support import bind_code
    from tests.support.telegram_fake import FakeRequest

    user = fake.user(9110)
    path = tmp_path / "state.pickle"
    code = bind_code(container, people["张伟"]["id"])
    from tests.bot.support import case_in_investigation

    _, number = case_in_investigation(container, people)

    async def feed(app, update):
        await app.process_update(Update.de_json(update, app.bot))

    async def before_crash():
        app = build_application(container, request=FakeRequest(fake),
                                persistence=PicklePersistence(path, update_interval=3600))
        await app.initialize()  # no shutdown: the process dies
        for update in (fake.text(user, f"/bind {code}"), fake.text(user, f"/case {number}"),
                       fake.document(user, b"%PDF z", "z.pdf", "application/pdf")):
            await feed(app, update)

    async def after_restart():
        app = build_application(container, request=FakeRequest(fake),
                                persistence=PicklePersistence(path))
        async with app:
            mark = fake.mark()
            await feed(app, fake.press(user, "pv:0"))
            return fake.sent(user["id"], mark)

    asyncio.run(before_crash())
    replies = asyncio.run(after_restart())
    assert replies[0].startswith("✅ 证据已登记")
    assert intake_calls[0]["bytes"] == b"%PDF z"

"""The bot over real HTTP: httpx to a fake Bot API on 127.0.0.1 (TELEGRAM_API_BASE_URL),
file download, multipart upload, getUpdates polling, the webhook route, and dialog state
that survives a restart."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import PicklePersistence

from bot.app import build_application
from bot.runner import BotRunner
from tests.bot.support import SECRET, TOKEN, bind_code
from tests.support.telegram_fake import FakeRequest, FakeTelegramServer


def test_http_paths_against_fake_server(container, people, fake):
    """Methods at <root>/bot<token>/<method>, files at <root>/file/bot<token>/<path>, over
    httpx with form and multipart bodies."""
    user = fake.user(8001)
    code = bind_code(container, people["张伟"]["id"])

    async def main(url):
        app = build_application(container, base_url=url, persistence=False)
        assert app.bot.base_url == f"{url}/bot{TOKEN}"
        async with app:
            mark = fake.mark()
            await app.process_update(Update.de_json(fake.text(user, f"/bind {code}"), app.bot))
            bound = fake.sent(user["id"], mark)
            file_id = fake.add_file(b"%PDF-1.4 scanned")
            tg_file = await app.bot.get_file(file_id)
            data = bytes(await tg_file.download_as_bytearray())
            sent = await app.bot.send_document(user["id"], b"receipt bytes",
                                               filename="receipt.pdf", caption="送达回证")
            return bound, tg_file.file_path, data, sent

    with FakeTelegramServer(fake) as server:
        bound, path, data, sent = asyncio.run(main(server.url))
    assert bound[0].startswith("绑定成功：张伟")
    assert path == f"{server.url}/file/bot{TOKEN}/files/F000001"
    assert data == b"%PDF-1.4 scanned"
    upload = [c for c in fake.calls if c.method == "sendDocument"][0]
    assert upload.files["document"] == ("receipt.pdf", b"receipt bytes")
    assert sent.document.file_name == "receipt.pdf"
    assert fake.methods()[0] == "getMe"


def test_polling_reads_get_updates(container, people, fake):
    """`python -m bot` polls: updates queued in getUpdates are answered."""
    user = fake.user(8002)

    async def main(url):
        app = build_application(container, base_url=url, persistence=False)
        async with app:
            await app.updater.start_polling(poll_interval=0, timeout=1)
            await app.start()
            fake.push(fake.text(user, "/start"))
            for _ in range(100):
                if fake.sent(user["id"]):
                    break
                await asyncio.sleep(0.05)
            await app.updater.stop()
            await app.stop()

    with FakeTelegramServer(fake) as server:
        asyncio.run(main(server.url))
    assert fake.sent(user["id"])[0].startswith("您好，这里是执法全过程记录系统")
    assert "getUpdates" in fake.methods()


def test_dialog_survives_a_restart(container, people, fake, tmp_path):
    """PicklePersistence keeps a half-done /new across a restart of the bot."""
    user = fake.user(8003)
    code = bind_code(container, people["张伟"]["id"])
    path = tmp_path / "state.pickle"

    async def first():
        app = build_application(container, request=FakeRequest(fake),
                                persistence=PicklePersistence(path))
        async with app:
            for update in (fake.text(user, f"/bind {code}"), fake.text(user, "/new")):
                await app.process_update(Update.de_json(update, app.bot))
            await app.process_update(Update.de_json(fake.press(user, "nk:penalty"), app.bot))

    async def second():
        app = build_application(container, request=FakeRequest(fake),
                                persistence=PicklePersistence(path))
        async with app:
            mark = fake.mark()
            await app.process_update(Update.de_json(fake.press(user, "nr:ex_officio"), app.bot))
            return fake.sent(user["id"], mark), app.user_data[user["id"]]["draft_case"]

    asyncio.run(first())
    replies, draft = asyncio.run(second())
    assert replies == ["（3/6）请输入案由（例如：未取得施工许可擅自施工）："]
    assert draft == {"kind": "penalty", "initiation": "ex_officio"}


def _post(client, body, secret=None):
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return client.post("/telegram/webhook", json=body, headers=headers)


def test_webhook_secret_checked(app, container, people, fake):
    """Wrong or missing secret: 403 JSON and nothing handled; the right one: 200, handled."""
    runner = BotRunner(container, request=FakeRequest(fake), persistence=False)
    app.extensions["telegram_bot_runner"] = runner
    client = app.test_client()
    user = fake.user(8004)
    try:
        missing = _post(client, fake.text(user, "/start"))
        wrong = _post(client, fake.text(user, "/start"), "not-the-secret")
        assert fake.sent(user["id"]) == []
        right = _post(client, fake.text(user, "/start"), SECRET)
        bad = _post(client, {"hello": 1}, SECRET)
    finally:
        runner.stop()
    for r in (missing, wrong):
        assert r.status_code == 403
        assert r.get_json()["error"]["code"] == "forbidden"
    assert right.status_code == 200 and right.get_json() == {"ok": True}
    assert fake.sent(user["id"])[0].startswith("您好")
    assert bad.status_code == 400


def test_webhook_refuses_all_without_configured_secret(container, fake):
    """No TELEGRAM_WEBHOOK_SECRET configured: every update is refused."""
    from dataclasses import replace

    from api import create_app

    container.settings = replace(container.settings, telegram_webhook_secret="")
    client = create_app({"CONTAINER": container, "TESTING": True}).test_client()
    r = _post(client, fake.text(fake.user(1), "/start"), "")
    assert r.status_code == 403


def test_python_m_bot_sets_the_webhook_through_the_configured_base_url(
        container, fake, monkeypatch, db_url, tmp_path):
    """`python -m bot --set-webhook URL` reads TELEGRAM_API_BASE_URL and sends the secret."""
    from bot.__main__ import main

    with FakeTelegramServer(fake) as server:
        for name, value in {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                            "TELEGRAM_API_BASE_URL": server.url, "DATABASE_URL": db_url,
                            "INSTANCE_PATH": str(tmp_path / "i"),
                            "STORAGE_URL": f"file://{tmp_path / 'b'}"}.items():
            monkeypatch.setenv(name, value)
        assert main(["--set-webhook", "https://qc.example/telegram/webhook"]) == 0
        assert fake.webhook == {"url": "https://qc.example/telegram/webhook",
                                "has_secret": True}
        assert "setMyCommands" in fake.methods()
        assert main(["--delete-webhook"]) == 0
        assert fake.webhook == {}
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "")
        assert main(["--set-webhook", "https://qc.example/telegram/webhook"]) == 2


def test_polling_thread_for_make_run(container, fake):
    """bot.runner.PollingThread polls beside the web app (make run with TELEGRAM_TOKEN)."""
    import time

    from bot.runner import PollingThread

    user = fake.user(8005)
    with FakeTelegramServer(fake) as server:
        poller = PollingThread(container, base_url=server.url, persistence=False).start()
        try:
            fake.push(fake.text(user, "/help"))
            for _ in range(100):
                if fake.sent(user["id"]):
                    break
                time.sleep(0.05)
        finally:
            poller.stop()
    assert fake.sent(user["id"])[0].startswith("您好")
    assert {"deleteWebhook", "setMyCommands", "getUpdates"} <= set(fake.methods())

"""Channels against local servers: a Bot API imitation, an SMTP server, an SMS gateway."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from core.cases.commands import AddRecord
from core.kernel.clock import utcnow
from core.notices.models import OutboxMessage
from notifications.base import DeliveryError
from notifications.mail import EmailChannel
from notifications.telegram import TelegramChannel
from notifications.webhook import WebhookChannel, sign, verify
from tests.worker.support import SECRET, WebhookReceiver

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
TOKEN_IN_LOG = re.compile(r"bot\d+:[A-Za-z0-9_-]{30,}")


def message(channel: str, recipient: str, **over) -> OutboxMessage:
    """An outbox message as a channel receives it."""
    m = OutboxMessage(id=7, idempotency_key=f"dl1:off1:due:{channel}", channel=channel,
                      recipient=recipient, case_id="c1", subject="【期限提醒】YYZJ-2026-0001 A17.2",
                      body="案件 YYZJ-2026-0001：书面说明将于 2026-10-08 23:59 到期。",
                      payload={}, status="sending", attempts=1, created_at=utcnow())
    for k, v in over.items():
        setattr(m, k, v)
    return m


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotAPI:
    """Imitates the Bot API's sendMessage; the chat id chooses the answer."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.requests.append((self.path, body))
                chat = str(body.get("chat_id"))
                if not self.path.endswith("/sendMessage") or f"/bot{TOKEN}/" not in self.path:
                    status, answer = 404, {"ok": False, "error_code": 404,
                                           "description": "Not Found"}
                elif chat == "429":
                    status, answer = 429, {"ok": False, "error_code": 429,
                                           "description": "Too Many Requests: retry after 7",
                                           "parameters": {"retry_after": 7}}
                elif chat == "403":
                    status, answer = 403, {"ok": False, "error_code": 403,
                                           "description": "Forbidden: bot was blocked by the user"}
                elif chat == "500":
                    status, answer = 502, {}
                else:
                    status, answer = 200, {"ok": True, "result": {"message_id": 1}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot_api():
    """A running Bot API imitation."""
    api = BotAPI()
    yield api
    api.close()


def test_telegram_sends_to_the_chat_and_never_logs_the_token(bot_api, caplog):
    """sendMessage at <root>/bot<token>/; errors and log lines carry no token."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    channel = TelegramChannel(TOKEN, bot_api.url, timeout=2)
    channel.send(message("telegram", "4242"))
    path, body = bot_api.requests[-1]
    assert path == f"/bot{TOKEN}/sendMessage"
    assert body["chat_id"] == 4242
    assert body["text"].startswith("【期限提醒】YYZJ-2026-0001 A17.2\n\n案件 YYZJ-2026-0001")

    errors = {}
    for chat in ("429", "403", "500"):
        with pytest.raises(DeliveryError) as info:
            channel.send(message("telegram", chat))
        errors[chat] = info.value
    assert errors["429"].retryable and errors["429"].retry_after == 7
    assert not errors["403"].retryable and "blocked" in errors["403"].message
    assert errors["500"].retryable
    with pytest.raises(DeliveryError) as down:
        TelegramChannel(TOKEN, f"http://127.0.0.1:{free_port()}", timeout=1).send(
            message("telegram", "1"))
    assert down.value.retryable

    texts = [str(e) for e in [*errors.values(), down.value]] + [repr(channel)]
    assert "sendMessage" in caplog.text  # httpx did log the request line, redacted
    assert not TOKEN_IN_LOG.search(caplog.text)
    assert not any(TOKEN_IN_LOG.search(t) or TOKEN.split(":")[1] in t for t in texts)


def test_telegram_reminder_to_an_officer_has_an_open_case_button(bot_api):
    """An officer's message about a case carries the bot's "oc:<case id>" button; a message
    with no officer (a complainant's notice) or no case carries none."""
    case_id = "0123456789abcdef0123456789abcdef"
    channel = TelegramChannel(TOKEN, bot_api.url, timeout=2)
    channel.send(message("telegram", "4242", case_id=case_id, officer_id="off1",
                         payload={"case_number": "YYZJ-2026-0001"}))
    assert bot_api.requests[-1][1]["reply_markup"] == {"inline_keyboard": [[
        {"text": "打开案件 YYZJ-2026-0001", "callback_data": f"oc:{case_id}"}]]}
    english = TelegramChannel(TOKEN, bot_api.url, timeout=2, default_lang="en")
    english.send(message("telegram", "4242", case_id=case_id, officer_id="off1"))
    assert bot_api.requests[-1][1]["reply_markup"]["inline_keyboard"][0][0]["text"] \
        == "Open the case"
    for over in ({"case_id": case_id}, {"officer_id": "off1", "case_id": None}):
        channel.send(message("telegram", "4242", **over))
        assert "reply_markup" not in bot_api.requests[-1][1]


class Mailbox:
    """An aiosmtpd handler: refuses refuse@…, defers later@…, keeps the rest."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 no such user"
        if address.startswith("later@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A local SMTP server on a free port."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


def test_email_reaches_a_local_smtp_server(smtp_server):
    """UTF-8 subject and body, the idempotency key as a header; 5xx final, 4xx retryable."""
    mailbox, port = smtp_server
    channel = EmailChannel(f"smtp://127.0.0.1:{port}", "全程 <noreply@quancheng.local>",
                           timeout=5)
    channel.send(message("email", "zhang.wei@example.org"))
    [envelope] = mailbox.messages
    assert envelope.rcpt_tos == ["zhang.wei@example.org"]
    email = message_from_bytes(envelope.content)
    assert str(make_header(decode_header(email["Subject"]))) == "【期限提醒】YYZJ-2026-0001 A17.2"
    assert email["X-Quancheng-Idempotency-Key"] == "dl1:off1:due:email"
    assert "书面说明将于 2026-10-08 23:59 到期" in email.get_payload(decode=True).decode()

    with pytest.raises(DeliveryError) as refused:
        channel.send(message("email", "refuse@example.org"))
    assert not refused.value.retryable
    with pytest.raises(DeliveryError) as deferred:
        channel.send(message("email", "later@example.org"))
    assert deferred.value.retryable
    with pytest.raises(DeliveryError) as down:
        EmailChannel(f"smtp://127.0.0.1:{free_port()}", "a@b.c", timeout=1).send(
            message("email", "x@example.org"))
    assert down.value.retryable


def test_webhook_is_signed_and_errors_are_classified():
    """The gateway verifies HMAC-SHA256 over timestamp.body; 5xx retryable, 4xx final."""
    with WebhookReceiver() as receiver:
        channel = WebhookChannel(receiver.url, SECRET, timeout=2)
        channel.send(message("webhook", "+8613800000000"))
        assert receiver.counts == {"dl1:off1:due:webhook": 1} and receiver.bad_signatures == 0
        assert receiver.bodies[0]["to"] == "+8613800000000"
        assert receiver.bodies[0]["text"].startswith("案件 YYZJ-2026-0001")
        with pytest.raises(DeliveryError):
            WebhookChannel(receiver.url, "another-secret", timeout=2).send(
                message("webhook", "+8613800000000"))
        assert receiver.bad_signatures == 1
    for status, retryable in ((503, True), (429, True), (400, False)):
        with WebhookReceiver(status=status) as receiver, pytest.raises(DeliveryError) as info:
            WebhookChannel(receiver.url, SECRET, timeout=2).send(message("webhook", "1"))
        assert info.value.retryable is retryable
    url = f"http://127.0.0.1:{free_port()}/sms?key=gateway-credential"
    with pytest.raises(DeliveryError) as down:
        WebhookChannel(url, SECRET, timeout=1).send(message("webhook", "1"))
    assert down.value.retryable and "gateway-credential" not in str(down.value)


def test_signature_rejects_tampering_and_replays():
    """verify() is what a gateway runs: same bytes, fresh timestamp, or no."""
    body = b'{"to":"1","text":"hi"}'
    good = sign(SECRET, "1700000000", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify(SECRET, "1700000000", body, good, now=1700000100)
    assert not verify(SECRET, "1700000000", body + b" ", good, now=1700000100)
    assert not verify(SECRET, "1700000001", body, good, now=1700000100)
    assert not verify(SECRET, "1700000000", body, good, now=1700001000)
    assert not verify(SECRET, "not-a-time", body, good)


def test_a_complainant_notice_emailed_is_recorded_on_the_case(client, container, people,
                                                              smtp_server):
    """A11.1: the intake notice goes out by e-mail; once the server accepted it, the case
    holds a notice record with sent_at (the proof the complainant was told)."""
    from sqlalchemy import select

    from core.cases import records
    from core.cases.models import Record
    from core.people.models import Officer
    from notifications.outbox import deliver
    from tests.helpers import open_case

    mailbox, port = smtp_server
    case = open_case(client, people["officer"], initiation="complaint")
    with container.uow() as uow:
        actor = uow.session.get(Officer, people["officer"]["id"])
        ticket = records.add_record(uow, actor, case["id"], AddRecord.parse({
            "type": "complaint_intake", "fields": {
                "complainant_name": "王五", "complainant_contact": "wang.wu@example.com",
                "channel": "online", "received_at": "2026-09-30T10:00:00+08:00",
                "content": "工地夜间施工噪音扰民"}})).complaint_ticket
        [outbox_id] = uow.session.execute(select(OutboxMessage.id).where(
            OutboxMessage.case_id == case["id"])).scalars()
    channel = EmailChannel(f"smtp://127.0.0.1:{port}", "noreply@quancheng.local", timeout=5)
    assert deliver(container, outbox_id, {"email": channel}).status == "sent"
    [envelope] = mailbox.messages
    assert ticket["tracking_no"] in message_from_bytes(envelope.content).get_payload(
        decode=True).decode()
    with container.uow() as uow:
        notices = list(uow.session.execute(select(Record).where(
            Record.case_id == case["id"], Record.type == "complainant_notice")
            .order_by(Record.created_at)).scalars())
        sent_at = uow.session.get(OutboxMessage, outbox_id).sent_at
    assert len(notices) == 2 and notices[1].corrects_id == notices[0].id
    assert notices[1].fields["sent_at"] == sent_at.isoformat()

"""Telegram Bot API channel: sendMessage to a bound chat; the token never leaves this module."""

from __future__ import annotations

import re

import httpx

from core.notices.models import OutboxMessage

from .base import DeliveryError, install_redaction, redact, text_of

MAX_TEXT = 4096  # the Bot API refuses longer messages
# The bot answers callback data "oc:<case id>" by making that case the officer's active case
# (bot/tasks.py); case ids are 32 hex digits, and callback data may not exceed 64 bytes.
OPEN_CASE = {"zh": "打开案件", "en": "Open the case"}
CASE_ID = re.compile(r"^[0-9a-f]{32}$")


class TelegramChannel:
    """POST {base}/bot{token}/sendMessage; recipient is the chat id (a bound user's id)."""

    name = "telegram"

    def __init__(self, token: str, base_url: str = "https://api.telegram.org", *,
                 timeout: float = 10.0, default_lang: str = "zh",
                 client: httpx.Client | None = None):
        if not token:
            raise ValueError("TelegramChannel needs a bot token")
        self._token = token
        self._url = f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self._client = client or httpx.Client(timeout=timeout)
        self.default_lang = default_lang
        install_redaction(token)

    def __repr__(self) -> str:
        return "TelegramChannel(token=***)"

    def send(self, message: OutboxMessage) -> None:
        """Send the text; 429 and 5xx are retryable, a refused chat or bad token is not."""
        subject, body = text_of(message, self.default_lang)
        text = f"{subject}\n\n{body}" if subject else body
        chat = message.recipient.strip()
        chat_id: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
        request: dict = {"chat_id": chat_id, "text": text[:MAX_TEXT],
                         "disable_web_page_preview": True}
        markup = self._buttons(message) or self._open_case_button(message)
        if markup is not None:
            request["reply_markup"] = markup
        try:
            response = self._client.post(self._url, json=request)
        except httpx.HTTPError as exc:
            # The exception text may quote the URL, and so the token: name the class only.
            raise DeliveryError(f"telegram unreachable: {type(exc).__name__}: "
                                f"{redact(str(exc), self._token)}", retryable=True) from None
        self._check(response)

    @staticmethod
    def _buttons(message: OutboxMessage) -> dict | None:
        """Buttons the message asks for (an approval request's ✅ and ↩), as rows of
        {"text", "data"}; callback data is at most 64 bytes, as the Bot API requires."""
        rows = (message.payload or {}).get("buttons")
        if not isinstance(rows, list) or not rows:
            return None
        keyboard = [[{"text": str(b["text"])[:64], "callback_data": str(b["data"])}
                     for b in row if isinstance(b, dict) and len(str(b.get("data", ""))) <= 64]
                    for row in rows if isinstance(row, list)]
        return {"inline_keyboard": keyboard} if any(keyboard) else None

    def _open_case_button(self, message: OutboxMessage) -> dict | None:
        """An officer's message about a case (a reminder, an escalation) carries a button that
        opens the case in the bot; complainants' notices (no officer) carry none."""
        case_id = message.case_id or ""
        if not message.officer_id or not CASE_ID.match(case_id):
            return None
        payload = message.payload or {}
        lang = payload.get("lang") if payload.get("lang") in OPEN_CASE else self.default_lang
        label = OPEN_CASE.get(lang, OPEN_CASE["zh"])
        if payload.get("case_number"):
            label += f" {payload['case_number']}"
        return {"inline_keyboard": [[{"text": label, "callback_data": f"oc:{case_id}"}]]}

    def _check(self, response: httpx.Response) -> None:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and data.get("ok"):
            return
        description = redact(str(data.get("description", ""))[:300], self._token)
        code = data.get("error_code", response.status_code)
        retry_after = (data.get("parameters") or {}).get("retry_after")
        retryable = response.status_code == 429 or response.status_code >= 500
        raise DeliveryError(f"telegram refused ({code}): {description or 'no description'}",
                            retryable=retryable, retry_after=retry_after)

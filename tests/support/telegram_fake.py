"""A fake Telegram Bot API for tests and the benchmark: served over HTTP on 127.0.0.1 (so the
real httpx, form and multipart paths run) or called in-process through a PTB request.

It keeps every call, the files it holds, and the messages it "delivered", and builds the
updates a user would send (text, commands, button presses, files, locations, forwards).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from telegram.request import BaseRequest, RequestData
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

# Parameters whose values are text even when they look like JSON numbers.
TEXT_PARAMS = {"text", "caption", "callback_query_id", "file_id", "url", "secret_token",
               "parse_mode", "language_code", "description", "short_description", "query"}
HOSTED_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class Call:
    """One Bot API call as the server received it."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeTelegram:
    """The state of a fake Bot API server."""

    def __init__(self, token: str, *, bot_id: int | None = None,
                 download_limit: int = HOSTED_DOWNLOAD_LIMIT):
        self.token = token
        self.bot_user = {"id": bot_id or int(token.split(":")[0]), "is_bot": True,
                         "first_name": "全程", "username": "quancheng_test_bot"}
        self.download_limit = download_limit
        self.calls: list[Call] = []
        self.files: dict[str, tuple[bytes, int]] = {}  # file_id -> (bytes, declared size)
        self.messages: dict[tuple[int, int], dict] = {}  # what the bot sent, by chat+id
        self.webhook: dict[str, Any] = {}
        self._updates: list[dict] = []
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._bot_message_ids = itertools.count(1_000_000)
        self._user_message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    # ----- the server side -----

    def handle(self, token: str, method: str, params: dict[str, Any],
               files: dict[str, tuple[str, bytes]] | None = None) -> tuple[int, dict]:
        """Answer one Bot API method call like Telegram would."""
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        with self._lock:
            self.calls.append(Call(method, params, files or {}))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            return 200, {"ok": True, "result": handler(params, files or {})}
        except _ApiError as exc:
            return exc.status, {"ok": False, "error_code": exc.status,
                                "description": exc.description}

    def file_content(self, token: str, path: str) -> bytes | None:
        """The bytes behind a file path getFile returned."""
        if token != self.token or not path.startswith("files/"):
            return None
        found = self.files.get(path.split("/", 1)[1])
        return found[0] if found else None

    def _message(self, chat_id: int, **extra) -> dict:
        message = {"message_id": next(self._bot_message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private"}, "from": self.bot_user, **extra}
        with self._lock:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    @staticmethod
    def _markup(params: dict) -> dict:
        markup = params.get("reply_markup")
        return {"reply_markup": markup} if isinstance(markup, dict) and \
            "inline_keyboard" in markup else {}

    def _m_getme(self, params, files):
        return self.bot_user

    def _m_sendmessage(self, params, files):
        if not str(params.get("text", "")).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(params["text"]) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._message(int(params["chat_id"]), text=params["text"],
                             **self._markup(params))

    def _edit(self, params: dict, **changes) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                raise _ApiError(400, "Bad Request: message to edit not found")
            message = {**message, **changes, "edit_date": int(time.time())}
            if "reply_markup" not in changes:
                message.pop("reply_markup", None)
            self.messages[key] = message
        return message

    def _m_editmessagetext(self, params, files):
        return self._edit(params, text=params["text"], **self._markup(params))

    def _m_editmessagereplymarkup(self, params, files):
        return self._edit(params, **self._markup(params))

    def _m_answercallbackquery(self, params, files):
        return True

    def _m_getfile(self, params, files):
        file_id = params["file_id"]
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        data, size = self.files[file_id]
        if size > self.download_limit:
            raise _ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size,
                "file_path": f"files/{file_id}"}

    def _m_copymessage(self, params, files):
        return {"message_id": self._message(int(params["chat_id"]), text="(copy)")["message_id"]}

    def _m_senddocument(self, params, files):
        name, data = files.get("document", ("", b""))
        file_id = self.add_file(data)
        return self._message(int(params["chat_id"]), document={
            "file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
            "file_size": len(data)}, caption=params.get("caption", ""))

    def _m_setmycommands(self, params, files):
        return True

    def _m_setwebhook(self, params, files):
        self.webhook = {"url": params.get("url", ""),
                        "has_secret": bool(params.get("secret_token"))}
        return True

    def _m_deletewebhook(self, params, files):
        self.webhook = {}
        return True

    def _m_getupdates(self, params, files):
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates[:100])
                self._cond.wait(deadline - time.monotonic())

    # ----- the user side: build updates -----

    def push(self, update: dict) -> None:
        """Queue an update for getUpdates."""
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()

    def add_file(self, data: bytes, size: int | None = None) -> str:
        """Hold a file as Telegram would; ``size`` can claim more than the bytes given."""
        file_id = f"F{next(self._file_ids):06d}"
        self.files[file_id] = (data, len(data) if size is None else size)
        return file_id

    @staticmethod
    def user(user_id: int, name: str = "用户", lang: str = "zh-hans") -> dict:
        """A Telegram user."""
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": lang}

    def _update(self, **body) -> dict:
        return {"update_id": next(self._update_ids), **body}

    def _incoming(self, user: dict, **content) -> dict:
        return {"message_id": next(self._user_message_ids), "date": int(time.time()),
                "chat": {"id": user["id"], "type": "private"}, "from": user, **content}

    def text(self, user: dict, text: str, **extra) -> dict:
        """A text message (a command when it starts with /)."""
        content: dict[str, Any] = {"text": text, **extra}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        return self._update(message=self._incoming(user, **content))

    def forwarded_text(self, user: dict, text: str) -> dict:
        """A text forwarded from someone else."""
        return self.text(user, text, forward_origin=self._origin())

    def _origin(self) -> dict:
        return {"type": "user", "date": int(time.time()) - 3600,
                "sender_user": self.user(999, "他人")}

    def document(self, user: dict, data: bytes, filename: str, mime: str,
                 size: int | None = None, forwarded: bool = False) -> dict:
        """A file sent as a document (originals keep their EXIF this way)."""
        file_id = self.add_file(data, size)
        extra = {"forward_origin": self._origin()} if forwarded else {}
        return self._update(message=self._incoming(user, document={
            "file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": filename,
            "mime_type": mime, "file_size": len(data) if size is None else size}, **extra))

    def photo(self, user: dict, data: bytes, width: int = 1280, height: int = 960) -> dict:
        """A compressed photo (Telegram re-encodes it and strips EXIF)."""
        file_id = self.add_file(data)
        sizes = [{"file_id": self.add_file(data[:100]), "file_unique_id": "thumb", "width": 90,
                  "height": 68, "file_size": 100},
                 {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": width,
                  "height": height, "file_size": len(data)}]
        return self._update(message=self._incoming(user, photo=sizes))

    def media(self, user: dict, kind: str, data: bytes, size: int | None = None, **fields
              ) -> dict:
        """A video, audio, voice or video_note message."""
        file_id = self.add_file(data, size)
        body = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                "file_size": len(data) if size is None else size, "duration": 3, **fields}
        if kind in ("video", "video_note"):
            body.setdefault("width", 640)
            body.setdefault("height", 480)
            if kind == "video_note":
                body["length"] = body.pop("width")
                body.pop("height")
        return self._update(message=self._incoming(user, **{kind: body}))

    def location(self, user: dict, lat: float, lon: float, accuracy: float | None = None,
                 live_period: int | None = None) -> dict:
        """A location (live when live_period is given)."""
        loc: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if accuracy is not None:
            loc["horizontal_accuracy"] = accuracy
        if live_period:
            loc["live_period"] = live_period
        return self._update(message=self._incoming(user, location=loc))

    def press(self, user: dict, data: str) -> dict:
        """A press on the newest button carrying ``data`` in the user's chat."""
        with self._lock:
            candidates = [m for (chat, _), m in self.messages.items()
                          if chat == user["id"] and data in _button_data(m)]
        if not candidates:
            raise AssertionError(f"no button {data!r} in chat {user['id']}: "
                                 f"{self.buttons(user['id'])}")
        message = max(candidates, key=lambda m: m["message_id"])
        return self._update(callback_query={
            "id": str(next(self._query_ids)), "from": user, "message": message,
            "chat_instance": f"ci{user['id']}", "data": data})

    # ----- what the bot did -----

    def mark(self) -> int:
        """A position in the call log, to read what came after."""
        return len(self.calls)

    def sent(self, chat_id: int, since: int = 0) -> list[str]:
        """Texts the bot sent or edited into a chat, in order, after ``since``."""
        out = []
        for call in self.calls[since:]:
            if call.method in ("sendMessage", "editMessageText") and \
                    int(call.params.get("chat_id", 0)) == chat_id:
                out.append(call.params["text"])
        return out

    def buttons(self, chat_id: int) -> list[str]:
        """The callback data of every button currently shown in a chat, newest first."""
        with self._lock:
            found = sorted(((mid, m) for (chat, mid), m in self.messages.items()
                            if chat == chat_id), reverse=True)
        return [d for _, m in found for d in _button_data(m)]

    def methods(self, since: int = 0) -> list[str]:
        """The names of the methods called after ``since``."""
        return [c.method for c in self.calls[since:]]


class _ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def _button_data(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b.get("callback_data") for row in rows for b in row if b.get("callback_data")]


def _decode(values: dict[str, str]) -> dict[str, Any]:
    """Form values as PTB sends them: JSON for anything that is not a string."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in TEXT_PARAMS:
            out[key] = value
            continue
        try:
            out[key] = json.loads(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


def _split(path: str) -> tuple[str, str, str] | None:
    """('method'|'file', token, method or file path) from a Bot API URL path."""
    parts = path.lstrip("/").split("/", 2)
    if len(parts) >= 2 and parts[0].startswith("bot"):
        return "method", parts[0][3:], parts[1]
    if len(parts) == 3 and parts[0] == "file" and parts[1].startswith("bot"):
        return "file", parts[1][3:], parts[2]
    return None


class FakeTelegramServer:
    """The fake served over HTTP on 127.0.0.1 by werkzeug, in a thread."""

    def __init__(self, fake: FakeTelegram):
        self.fake = fake
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-telegram")

    def __enter__(self) -> FakeTelegramServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        route = _split(request.path)
        if route is None:
            response = Response("not found", status=404)
        elif route[0] == "file":
            data = self.fake.file_content(route[1], route[2])
            response = Response(data, mimetype="application/octet-stream") if data is not None \
                else Response("not found", status=404)
        else:
            params = _decode(dict(request.form))
            if request.is_json:
                params.update(request.get_json())
            files = {name: (f.filename or "", f.read()) for name, f in request.files.items()}
            request.close()  # the multipart parts live in temporary files
            status, body = self.fake.handle(route[1], route[2], params, files)
            response = Response(json.dumps(body, ensure_ascii=False), status=status,
                                mimetype="application/json")
        return response(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    """No access log (its request lines would carry the token); keep-alive like Telegram."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:
        """Do not log requests."""


class FakeRequest(BaseRequest):
    """A PTB transport that calls the fake in-process: fast unit tests, no sockets."""

    def __init__(self, fake: FakeTelegram):
        self.fake = fake

    @property
    def read_timeout(self) -> float | None:
        """No network, no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE,
                         write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        """Route the call to the fake as the HTTP server would."""
        # PTB percent-encodes file URLs (the ':' of the token); an HTTP server decodes them.
        path = "/" + unquote(url.split("://", 1)[-1].split("/", 1)[1])
        route = _split(path)
        if route is None:
            return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
        if route[0] == "file":
            data = self.fake.file_content(route[1], route[2])
            return (200, data) if data is not None else (404, b"not found")
        params = _decode(request_data.json_parameters) if request_data else {}
        files = {}
        if request_data and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                files[name] = (value[0] or "", value[1] if isinstance(value[1], bytes)
                               else bytes(value[1]))
        status, body = self.fake.handle(route[1], route[2], params, files)
        return status, json.dumps(body, ensure_ascii=False).encode()

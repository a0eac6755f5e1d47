"""The bot's application factory: token, API base URL, persistence, handlers, error handler."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    BasePersistence,
    ContextTypes,
)
from telegram.request import BaseRequest

from core.bootstrap import Container
from core.kernel.settings import SettingsError

from . import (
    approvals,
    binding,
    cases,
    chats,
    complaints,
    dialogs,
    evidence,
    forms,
    signing,
    tasks,
    web_link,
)
from .common import TELEGRAM_DOWNLOAD_LIMIT, BotContext, QuanchengBot, log, recorded, reply
from .logs import install_log_redaction
from .persistence import DatabasePersistence
from .texts import t

STALE = (IndexError, KeyError, ValueError, TypeError)  # button data no handler expected


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (the token is redacted) and answer the user politely, saying whether
    the last thing was recorded; a button whose data no longer fits gets a plain refusal."""
    log.error("error while handling an update: %s", type(context.error).__name__,
              exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        if update.callback_query is not None and isinstance(context.error, STALE) and \
                not recorded.get():
            text = t(context.lang, "stale_button")
        else:
            text = t(context.lang, "error_recorded" if recorded.get() else "error")
        try:
            await reply(update, text)
        except Exception:  # the chat may be unreachable; the log line above is what counts
            log.warning("could not tell the user about the error")


def build_application(container: Container, *, base_url: str | None = None,
                      request: BaseRequest | None = None,
                      persistence: BasePersistence | bool = True,
                      download_limit: int | None = None) -> QuanchengBot:
    """Build the PTB application over the container's services.

    ``base_url`` is the root of a Bot API server (TELEGRAM_API_BASE_URL): methods go to
    ``<root>/bot<token>/<method>`` and files come from ``<root>/file/bot<token>/<path>``.
    ``request`` replaces PTB's httpx transport (the unit tests' fake). ``persistence`` True
    keeps dialog state in the database (bot.persistence), written as each answer comes, so
    dialogs survive a restart and any web process can take a dialog's next update; False
    keeps it in memory only (unit tests); a BasePersistence is used as given. Telegram lets
    a bot download 20 MB, behind any proxy; only a local Bot API server (TELEGRAM_LOCAL_API)
    lifts that, so the limit becomes the upload limit there.
    """
    settings = container.settings
    if not settings.telegram_token:
        raise SettingsError("TELEGRAM_TOKEN is unset: the bot has no token to run with")
    install_log_redaction()
    root = (base_url or settings.telegram_api_base_url).rstrip("/")
    builder = (ApplicationBuilder().application_class(QuanchengBot)
               .context_types(ContextTypes(context=BotContext))
               .token(settings.telegram_token)
               .base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
               .job_queue(None))
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if persistence is True:
        persistence = DatabasePersistence(container)
    if isinstance(persistence, BasePersistence):
        builder = builder.persistence(persistence)
    application: QuanchengBot = builder.build()
    application.container = container
    application.me_cache = {}
    if download_limit is None:
        # Whatever the base URL (the official one, or a proxy to it), Telegram's 20 MB holds
        # unless the server is declared a local Bot API server (TELEGRAM_LOCAL_API).
        download_limit = settings.max_upload_bytes if settings.telegram_local_api else \
            TELEGRAM_DOWNLOAD_LIMIT
    application.download_limit = download_limit
    register(application, persistent=application.persistence is not None)
    return application


def register(application: QuanchengBot, *, persistent: bool) -> None:
    """Add every handler: the gate first, the dialogs, then the catch-alls."""
    application.add_handler(chats.handler(), group=-2)
    application.add_handler(binding.gate_handler(), group=-1)
    for handler in dialogs.switch_handlers():
        application.add_handler(handler)
    for module in (binding, cases, forms, signing, approvals, complaints, tasks, web_link):
        found = module.handlers(persistent) if module is not binding else module.handlers()
        for handler in found:
            application.add_handler(handler)
    for handler in evidence.handlers(persistent):
        application.add_handler(handler)
    for handler in binding.fallback_handlers():
        application.add_handler(handler)
    application.add_handler(chats.stale_handler())
    application.add_error_handler(on_error)


COMMANDS = {
    "zh": [("new", "新建案件"), ("cases", "我的案件"), ("record", "填写文书"),
           ("checklist", "还缺什么"), ("sign", "签名"), ("refuse", "拒签/拒绝调查"),
           ("serve", "送达"), ("interrupt", "音像中断"), ("resume", "恢复录像"),
           ("stage", "进入下一阶段"), ("tasks", "我的期限"), ("web", "登录网页工作台"),
           ("complain", "投诉举报"), ("status", "查询进度"), ("confirm", "确认联系方式"),
           ("intake", "待核查投诉"), ("lang", "语言"),
           ("unbind", "解除绑定"), ("cancel", "取消")],
    "en": [("new", "open a case"), ("cases", "my cases"), ("record", "fill in a record"),
           ("checklist", "what is missing"), ("sign", "signatures"),
           ("refuse", "refusal"), ("serve", "serve a document"), ("interrupt", "AV stopped"),
           ("resume", "AV resumed"), ("stage", "next stage"), ("tasks", "my deadlines"),
           ("web", "sign in to the desk"),
           ("complain", "file a complaint"), ("status", "complaint progress"),
           ("confirm", "confirm your contact"), ("intake", "complaints to check"),
           ("lang", "language"), ("unbind", "unbind this account"), ("cancel", "cancel")],
}


async def publish_commands(application: QuanchengBot) -> None:
    """Tell Telegram the command menu, in Chinese and in English."""
    await application.bot.set_my_commands(COMMANDS["zh"])
    await application.bot.set_my_commands(COMMANDS["en"], language_code="en")

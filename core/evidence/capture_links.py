"""Links for the capture page inside Telegram (the Mini App, ``/m/capture``): an officer whose
Telegram identity the front has verified (Mini App init data, signed with the bot token) gets a
one-time upload link for one captured item of a case they may write to (A31.1). Each item,
even one captured offline and sent later, asks for its own link."""

from __future__ import annotations

from core.cases import lifecycle as case_service
from core.kernel.errors import Forbidden, NotFound
from core.people.access import log_access
from core.people.officers import officer_by_telegram
from core.platform import keyvalue
from core.platform.uow import UnitOfWork

from .uploads import CAPTURE_LINKS, _link, issue_upload_link

CAPTURE_METHOD = "telegram_miniapp_capture"  # how the item was made (A17.1), set by the page


def capture_link(uow: UnitOfWork, telegram_user_id: int, case_ref: str, *,
                 base_url: str | None = None) -> dict:
    """A one-time upload link for the case numbered ``case_ref``, for the officer bound to
    this (verified) Telegram account; Forbidden for an unbound account, NotFound for a case the
    officer may not see."""
    officer = officer_by_telegram(uow.session, telegram_user_id)
    if officer is None:
        log_access(uow.session, None, "refused", "capture_link", f"tg:{telegram_user_id}"[:64],
                   channel="miniapp")
        raise Forbidden("this Telegram account is not bound to an officer",
                        zh="此 Telegram 账号未绑定执法人员")
    view = case_service.find_case(uow, officer, case_ref, channel="miniapp")
    if view is None:
        raise NotFound(f"case {case_ref[:40]} not found", zh="未找到该案件")
    link = issue_upload_link(uow, officer, view.case.id, base_url=base_url)
    # Marked so that the upload's intake takes the page's time and place (intake.in_app_verdict).
    keyvalue.put(uow.session, CAPTURE_LINKS, _link(uow, link["token"]).id, True)
    return {**link, "case_title": view.case.title, "method": CAPTURE_METHOD}

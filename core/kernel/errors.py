"""Domain errors; fronts map them to HTTP statuses or plain sentences in the bot.

Every error carries its message in English and, where it was worded, in Simplified Chinese
(``zh``); a front picks one with :meth:`DomainError.text`. Field problems are codes from
core.kernel.texts, so both languages come from one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.kernel import texts


class DomainError(Exception):
    """Base of every error a front must turn into a clear answer."""

    code = "error"
    status = 400
    lead_zh = "请求未被接受"

    def __init__(self, message: str, *, zh: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.zh = zh
        self.details = details or {}

    def text(self, lang: str = "zh") -> str:
        """The message in the language asked for; in Chinese, the worded text or one built
        from the error's kind, the rules it names and the fields it refuses."""
        return self.message if lang == "en" else self.chinese()

    def chinese(self) -> str:
        """The Chinese message: as worded, else the kind's lead with the missing rules'
        names (RULES.md IDs) and each bad field's problem, so no refusal reaches a user in
        English only."""
        if self.zh:
            return self.zh
        lead = next((c.lead_zh for c in type(self).__mro__ if getattr(c, "lead_zh", None)),
                    "请求未被接受")
        parts = []
        missing = getattr(self, "missing", None) or self.details.get("missing") or []
        if missing:
            parts.append("、".join(f"{texts.label('rule', m)}（{m}）" for m in missing))
        fields_zh = self.details.get("fields_zh")
        if isinstance(fields_zh, Mapping) and fields_zh:
            parts.append("；".join(f"{k}：{v}" for k, v in fields_zh.items()))
        elif isinstance(self.details.get("fields"), Mapping):
            parts.append("、".join(str(k) for k in self.details["fields"]))
        return lead + ("：" + "；".join(parts) if parts else "")


class NotFound(DomainError):
    """It does not exist, or the caller may not see it (never tell which)."""

    code, status = "not_found", 404
    lead_zh = "未找到，或您无权查看"


class Forbidden(DomainError):
    """The caller's role does not allow this action on something they can see."""

    code, status = "forbidden", 403
    lead_zh = "您的角色无权执行此操作"


class Invalid(DomainError):
    """Input fields are missing or malformed."""

    code, status = "invalid", 422
    lead_zh = "填写有误"

    @classmethod
    def fields(cls, problems: Mapping[str, tuple[str, dict]], *, missing: list[str] | None = None,
               what: str = "") -> Invalid:
        """An error naming each bad field with a problem code of core.kernel.texts.PROBLEMS."""
        en = {name: texts.problem(c, "en", **params) for name, (c, params) in problems.items()}
        zh = {name: texts.problem(c, "zh", **params) for name, (c, params) in problems.items()}
        lead_en = f"invalid fields{' for ' + what if what else ''}: "
        details: dict = {"fields": en, "fields_zh": zh,
                         "problems": {n: c for n, (c, _) in problems.items()},
                         "params": {n: dict(p) for n, (_, p) in problems.items() if p}}
        if missing:
            details["missing"] = missing
        return cls(lead_en + "; ".join(f"{k}: {v}" for k, v in en.items()),
                   zh="填写有误：" + "；".join(f"{k}：{v}" for k, v in zh.items()), details=details)


class Conflict(DomainError):
    """The request clashes with what is already recorded."""

    code, status = "conflict", 409
    lead_zh = "与已记录的内容冲突，未作更改"


class TooLarge(DomainError):
    """The upload is over its size limit; nothing was stored."""

    code, status = "too_large", 413
    lead_zh = "超过大小上限，未保存"


class UnsupportedType(DomainError):
    """The upload's type is not one the regulation's records accept."""

    code, status = "unsupported_type", 415
    lead_zh = "不接受此类型的文件，未保存"


class GateRefused(DomainError):
    """A rule of the regulation refuses the step; ``missing`` lists requirement IDs."""

    code, status = "gate_refused", 409
    lead_zh = "不符合程序规定，尚缺"

    def __init__(self, message: str, missing: list[str], *, zh: str | None = None,
                 details: dict | None = None):
        super().__init__(message, zh=zh, details=details)
        self.missing = missing


class BindCodeInvalid(Invalid):
    """A Telegram binding code is unknown, used, expired or locked after failed tries."""

    code = "bind_code_invalid"


class AlreadyBound(Conflict):
    """The Telegram account is bound to another officer, or the officer to another account."""

    code = "already_bound"


class AlreadyDone(Conflict):
    """The step was already taken (a double tap, a retried request): nothing changed."""

    code = "already_done"
    lead_zh = "该操作已完成，无需重复"


class RateLimited(DomainError):
    """Too many attempts from one place or at one thing; ``retry_after`` seconds to wait."""

    code, status = "rate_limited", 429
    lead_zh = "尝试过于频繁，请稍后再试"

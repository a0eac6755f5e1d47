"""Texts of the messages this package writes itself: Simplified Chinese by default, English on
request. Deadline reminders are worded by core.deadlines.reminders (the rules live in core)."""

from __future__ import annotations

LANGS = ("zh", "en")

# name -> lang -> (subject, body). Placeholders missing from the context show as "—".
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "delivery.dead": {
        "zh": ("【消息投递失败】#{outbox_id} 未送达",
               "消息 #{outbox_id}（{channel} → {recipient}，{subject}）经 {attempts} 次尝试"
               "仍未送达：{error}。请在“投递失败”列表（GET /api/v1/deliveries?status=dead）"
               "中处理。"),
        "en": ("[Delivery failed] #{outbox_id} was not delivered",
               "Message #{outbox_id} ({channel} → {recipient}, {subject}) was not delivered after "
               "{attempts} attempts: {error}. See GET /api/v1/deliveries?status=dead."),
    },
}


class _Context(dict):
    """A format context where a missing field shows as a dash instead of failing a reminder."""

    def __missing__(self, key: str) -> str:
        return "—"


def render(name: str, lang: str = "zh", **context) -> tuple[str, str]:
    """Subject and body of a template in the given language (zh when it is unknown)."""
    variants = TEMPLATES[name]
    subject, body = variants.get(lang) or variants["zh"]
    ctx = _Context(context)
    return subject.format_map(ctx), body.format_map(ctx)

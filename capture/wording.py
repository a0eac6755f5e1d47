"""Short human wording for distances and durations, in English and Chinese."""

from __future__ import annotations

from datetime import timedelta


def metres(d: float) -> str:
    """"38 m", "3,012 m"."""
    return f"{d:,.0f} m"


def metres_zh(d: float) -> str:
    """"38米", "3012米"."""
    return f"{d:.0f}米"


def duration(td: timedelta) -> str:
    """"45 s", "2 min", "3 h 5 min", "4 days" (absolute value)."""
    s = abs(td.total_seconds())
    if s < 60:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s // 60:.0f} min"
    if s < 48 * 3600:
        h, m = divmod(int(s // 60), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{s / 86400:.0f} days"


def duration_zh(td: timedelta) -> str:
    """"45秒", "2分钟", "3小时5分钟", "4天" (absolute value)."""
    s = abs(td.total_seconds())
    if s < 60:
        return f"{s:.0f}秒"
    if s < 2 * 3600:
        return f"{s // 60:.0f}分钟"
    if s < 48 * 3600:
        h, m = divmod(int(s // 60), 60)
        return f"{h}小时{m}分钟" if m else f"{h}小时"
    return f"{s / 86400:.0f}天"

"""Rate limits of the public and credential-guessing entry points (issue 12, finding 6), for
the services every front shares (the bot's /bind and /complain as much as the API's): the
`limits` library (the one under Flask-Limiter), on Redis when REDIS_URL is set, so several
processes count together, and in memory on the embedded defaults."""

from __future__ import annotations

import threading
import time

from limits import RateLimitItem, parse, storage, strategies

from core.kernel.errors import RateLimited

# What each entry point allows; the names are the keys' first part.
LIMITS = {
    "bind_failure": "5/hour",        # wrong bind codes per Telegram account
    "complaint": "5/hour",           # public complaints per Telegram account or contact
    "complaint_lookup": "10 per 10 minutes",  # status lookups per address or Telegram account
    "complaint_number": "30/hour",   # status lookups per tracking number
    "complaint_confirm": "5/hour",   # contact confirmation codes tried per tracking number
    "bad_token": "30/minute",        # failed bearer tokens per address
    "upload_link": "60/minute",      # upload-link page and tus calls with a link token
    "checkpoint_on_demand": "30/hour",  # checkpoints a reader's GET may sign
}

_lock = threading.Lock()
_limiters: dict[str, strategies.RateLimiter] = {}


def limiter(redis_url: str = "") -> strategies.RateLimiter:
    """The process's limiter on Redis (REDIS_URL) or in memory."""
    key = redis_url or "memory://"
    with _lock:
        found = _limiters.get(key)
        if found is None:
            found = _limiters[key] = strategies.MovingWindowRateLimiter(
                storage.storage_from_string(key))
        return found


def _item(name: str) -> RateLimitItem:
    return parse(LIMITS[name])


def allowed(redis_url: str, name: str, who: str) -> bool:
    """True while ``who`` is under the limit ``name`` (nothing is counted)."""
    return limiter(redis_url).test(_item(name), name, who)


def count(redis_url: str, name: str, who: str) -> bool:
    """Count one attempt of ``who``; False when it goes over the limit."""
    return limiter(redis_url).hit(_item(name), name, who)


def refuse_over(redis_url: str, name: str, who: str, *, hit: bool = True) -> None:
    """Count an attempt (or only test) and raise 429 when ``who`` is over the limit."""
    ok = count(redis_url, name, who) if hit else allowed(redis_url, name, who)
    if not ok:
        raise RateLimited(f"too many attempts ({LIMITS[name]}); try again later",
                          zh="尝试次数过多，请稍后再试。")


def refuse_any_over(redis_url: str, keys: list[tuple[str, str]], *, what: str,
                    what_zh: str) -> None:
    """Count one attempt against every (limit name, who) and raise 429 with the longest wait
    when any is over: every attempt counts on every key, refused before any secret is compared."""
    over = [(name, who) for name, who in keys if not count(redis_url, name, who)]
    if over:
        wait = max(retry_after(redis_url, name, who) for name, who in over)
        raise RateLimited(f"too many {what}; try again in {wait} seconds",
                          zh=f"{what_zh}过于频繁，请 {max(1, wait // 60)} 分钟后再试。",
                          details={"retry_after": wait})


def retry_after(redis_url: str, name: str, who: str) -> int:
    """Seconds until ``who`` may try ``name`` again (at least 1)."""
    stats = limiter(redis_url).get_window_stats(_item(name), name, who)
    return max(1, int(stats.reset_time - time.time()))


def reset(redis_url: str = "") -> None:
    """Forget every count (tests)."""
    limiter(redis_url).storage.reset()

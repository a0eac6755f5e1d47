"""Health: the state of the database, queue and storage."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .auth import container

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when every dependency answers, 503 naming the one that does not."""
    c = container()
    checks = {}
    try:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"status": "ok", "backend": c.engine.dialect.name}
    except Exception as exc:  # any driver error means "down"; its class names the cause
        checks["database"] = {"status": "down", "error": type(exc).__name__}
    problem = c.blobs.problem()
    checks["storage"] = {"status": "ok"} if problem is None else {"status": "down",
                                                                  "error": problem}
    checks["queue"] = _queue_state(c)
    ok = all(v["status"] == "ok" for v in checks.values())
    body = {"status": "ok" if ok else "degraded", **checks,
            "embedded": not c.settings.database_url}
    return jsonify(body), 200 if ok else 503


def _queue_state(c) -> dict:
    if not c.settings.redis_url:
        return {"status": "ok", "backend": "in-process"}
    try:
        import redis

        redis.Redis.from_url(c.settings.redis_url, socket_timeout=2).ping()
        return {"status": "ok", "backend": "redis"}
    except Exception as exc:  # connection errors of several kinds: report, do not raise
        return {"status": "down", "backend": "redis", "error": type(exc).__name__}

"""Health: the state of the database, queue and storage."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from .auth import container

bp = Blueprint("health", __name__)
log = logging.getLogger("quancheng.health")


@bp.get("/healthz")
def healthz():
    """200 when every dependency answers, 503 naming the one that does not."""
    c = container()
    checks = {}
    try:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"status": "ok", "backend": c.engine.dialect.name}
    except Exception:  # any driver error means "down"; the log has it, not the public answer
        log.warning("health: the database does not answer", exc_info=True)
        checks["database"] = {"status": "down", "error": "unreachable"}
    problem = c.blobs.problem()
    # What is wrong, without the exception's class (finding 10: no internals to the public).
    checks["storage"] = {"status": "ok"} if problem is None else {
        "status": "down", "error": problem.split(" (")[0]}
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
    except Exception:  # connection errors of several kinds: log, answer without details
        log.warning("health: Redis does not answer", exc_info=True)
        return {"status": "down", "backend": "redis", "error": "unreachable"}

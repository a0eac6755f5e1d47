"""The typed API as a phone app meets it (issue 15), against the app served on 127.0.0.1:

- ``walk``: a penalty case from filing to closed by a client that chooses every request from
  the case's next_actions and fills every body from /api/v1/openapi.json; prints the request
  count and the refused requests (the issue's baseline: 58 requests, 9 refused; minimum 35).
- ``fuzz``: schemathesis with N generated requests per operation (make test runs a few; this is
  the long run); prints requests, server errors, schema and status-code failures.

    .venv/bin/python bench/api_bench.py walk [--db sqlite|postgres]
    .venv/bin/python bench/api_bench.py fuzz [--examples 100] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import make_db  # noqa: E402 - bench/ is on sys.path as the script's folder

from api import create_app  # noqa: E402
from core.bootstrap import bootstrap  # noqa: E402
from core.kernel.settings import Settings  # noqa: E402
from core.people.officers import demo_seed  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402
from tests.support import fuzz  # noqa: E402
from tests.support.walk import Walker  # noqa: E402


def _send(url: str):
    session = requests.Session()

    def send(method, path, token, body):
        r = session.request(method, url + path, json=body, timeout=60,
                            headers={"Authorization": f"Bearer {token}"})
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, {}
    return send


def walk(url: str, users: list[dict]) -> dict:
    """Open a penalty case, then walk it on next_actions alone."""
    officer = users[0]
    r = requests.post(url + "/api/v1/cases", timeout=60, json={
        "kind": "penalty", "initiation": "ex_officio", "title": "违法建设",
        "party": {"name": "某公司", "kind": "organisation"}},
        headers={"Authorization": f"Bearer {officer['token']}"})
    r.raise_for_status()
    t0 = time.perf_counter()
    done = Walker(_send(url), users).run(r.json()["id"])
    return {"stage": done.stage, "requests": done.requests + 1,  # the opening POST counts
            "refused": done.failed, "seconds": round(time.perf_counter() - t0, 2),
            "by_kind": _by_kind(done.log)}


def _by_kind(log) -> dict:
    out: dict[str, int] = {}
    for method, path, _ in log:
        kind = method + " " + ("case" if method == "GET" and path.count("/") == 4 else
                               path.rsplit("/", 1)[-1] if not path[-1].isdigit() else path)
        out[kind] = out.get(kind, 0) + 1
    return out


def main() -> None:
    """Parse arguments, serve the app on a scratch database, run the chosen measurement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("walk", "fuzz"))
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--examples", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="qc-api-bench-"))
    url, drop = make_db(args.db, tmp)
    try:
        container = bootstrap(Settings(database_url=url, instance_path=tmp / "instance",
                                       storage_url=f"file://{tmp / 'blobs'}"))
        upgrade(container.engine)
        with container.uow() as uow:
            seed = demo_seed(uow.session)
        users = seed["users"]  # officer, officer, supervisor, legal reviewer, head
        served = fuzz.Served(create_app({"CONTAINER": container}))
        try:
            if args.what == "walk":
                out = walk(served.url, users)
            else:
                people = {u["role"]: u for u in reversed(users)}
                ids = fuzz.seed_case(served.url, people)
                t0 = time.perf_counter()
                report = fuzz.run(served.url, people["officer"]["token"], ids,
                                  examples=args.examples)
                out = {"examples_per_operation": args.examples, "requests": report.total,
                       "operations": len(report.requests), "server_errors": report.server_errors,
                       "failures": len(report.failures), "first_failures": report.failures[:5],
                       "seconds": round(time.perf_counter() - t0, 1)}
        finally:
            served.close()
            container.engine.dispose()
    finally:
        drop()
    print(json.dumps({"bench": f"api_{args.what}", "db": args.db, **out}, ensure_ascii=False,
                     indent=2))


if __name__ == "__main__":
    main()

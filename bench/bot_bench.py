"""Bot throughput (issue 6): updates per second handled by the bot against the fake Bot API
served over HTTP on 127.0.0.1 (real httpx), for /checklist (a read through core.cases.checklist
and one sendMessage) and for plain text (the gate and the menu answer).

    .venv/bin/python bench/bot_bench.py [--db sqlite|postgres] [-n 2000] [--transport http|inproc]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import make_db  # noqa: E402 - bench/ is on sys.path as the script's folder
from telegram import Update  # noqa: E402

from bot.app import build_application  # noqa: E402
from core.bootstrap import bootstrap  # noqa: E402
from core.cases import lifecycle as case_service  # noqa: E402
from core.kernel.settings import Settings  # noqa: E402
from core.people.models import Officer  # noqa: E402
from core.people.officers import demo_seed  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402
from tests.support.telegram_fake import FakeRequest, FakeTelegram, FakeTelegramServer  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # noqa: S105 - the fake API's token


async def run(container, fake: FakeTelegram, n: int, url: str | None, user_id: int,
              case: tuple[str, str]) -> dict:
    """Feed n /checklist and n text updates; time each batch."""
    kwargs = {"base_url": url} if url else {"request": FakeRequest(fake)}
    app = build_application(container, persistence=False, **kwargs)
    user = fake.user(user_id)
    out = {}
    async with app:
        app.user_data[user_id].update(case_id=case[0], case_number=case[1])
        for name, text_ in (("checklist", "/checklist"), ("text", "你好")):
            updates = [Update.de_json(fake.text(user, text_), app.bot) for _ in range(n)]
            await app.process_update(updates[0])  # warm up
            mark = fake.mark()
            t0 = time.perf_counter()
            for u in updates:
                await app.process_update(u)
            seconds = time.perf_counter() - t0
            replies = fake.sent(user_id, mark)
            assert len(replies) == n, (name, len(replies))
            out[name] = {"updates": n, "seconds": round(seconds, 3),
                         "updates_per_s": round(n / seconds, 1)}
    return out


def main() -> None:
    """Set up a bound officer with an open case, then measure."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--transport", default="http", choices=["http", "inproc"])
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="qc-bot-bench-"))
    url, drop = make_db(args.db, tmp)
    try:
        container = bootstrap(Settings(database_url=url, instance_path=tmp / "instance",
                                       storage_url=f"file://{tmp / 'blobs'}",
                                       telegram_token=TOKEN))
        upgrade(container.engine)
        with container.uow() as uow:
            seed = demo_seed(uow.session)
            officer = uow.session.get(Officer, seed["users"][0]["id"])
            officer.telegram_user_id = 4242
            case = case_service.open_case(uow, officer, {
                "kind": "penalty", "initiation": "ex_officio", "title": "bench",
                "site": {"lat": 29.35, "lon": 113.12}})
            case_ref = (case.id, case.number)
        fake = FakeTelegram(TOKEN)
        if args.transport == "http":
            with FakeTelegramServer(fake) as server:
                figures = asyncio.run(run(container, fake, args.n, server.url, 4242, case_ref))
        else:
            figures = asyncio.run(run(container, fake, args.n, None, 4242, case_ref))
        container.engine.dispose()
        for name, f in figures.items():
            print(f"{name:<10} {f['updates']} updates in {f['seconds']} s: "
                  f"{f['updates_per_s']} updates/s")
        print(json.dumps({"bench": "bot_updates", "db": args.db, "transport": args.transport,
                          **{k: v["updates_per_s"] for k, v in figures.items()},
                          "n": args.n}))
    finally:
        drop()


if __name__ == "__main__":
    main()

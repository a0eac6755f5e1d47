"""Taps and typed answers an officer needs for the actions issue 16 measures, counted on the
fake Bot API (tests/bot/field.py says how a tap is counted).

    .venv/bin/python bench/bot_taps.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.bootstrap import bootstrap  # noqa: E402
from core.kernel.settings import Settings  # noqa: E402
from core.people.officers import demo_seed  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402
from tests.bot import field  # noqa: E402
from tests.bot.support import TOKEN, bind_code, jpeg_with_gps  # noqa: E402
from tests.support.telegram_fake import FakeTelegram, FakeTelegramServer  # noqa: E402


async def measure(container, fake, url: str, officer_id: str) -> dict:
    """Play each action once and count."""
    day = field.FieldDay(container, fake, url)
    await day.start()
    user = fake.user(42)
    try:
        await day.say(user, f"/bind {bind_code(container, officer_id)}")
        found = {"open a case with its filing form (every question)":
                 await field.open_case_with_filing_form(day, user)}
        photo = jpeg_with_gps(29.3573, 113.1290, datetime.now(UTC))
        found["attach a verified photo (📎 → 文件)"] = await field.attach_verified_photo(
            day, user, photo)
        found["open a case with its filing form (defaults, location shared)"] = \
            await field.open_case_fast(day, user)
        found["attach a verified photo (capture page)"] = \
            await field.verified_photo_in_capture_page(day, user)
        return found
    finally:
        await day.close()


def main() -> int:
    """Print the counts."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        container = bootstrap(Settings(
            database_url=f"sqlite:///{tmp / 'taps.db'}", instance_path=tmp / "instance",
            storage_url=f"file://{tmp / 'blobs'}", telegram_token=TOKEN,
            public_url="https://qc.example.cn",
            telegram_webhook_secret="bench-secret-0123456789"))  # noqa: S106 - the fake's
        upgrade(container.engine)
        with container.uow() as uow:
            seed = demo_seed(uow.session)
        officer = next(p for p in seed["users"] if p["role"] == "officer")
        fake = FakeTelegram(TOKEN)
        with FakeTelegramServer(fake) as server:
            found = asyncio.run(measure(container, fake, server.url, officer["id"]))
        container.engine.dispose()
    for action, (taps, typed) in found.items():
        print(f"{action}: {taps} taps, {typed} typed answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())

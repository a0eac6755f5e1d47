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
from tests.bot.support import (  # noqa: E402
    TOKEN,
    bind_code,
    case_in_investigation,
    jpeg_with_gps,
    phone_video,
    plain_jpeg,
)
from tests.support.telegram_fake import FakeTelegram, FakeTelegramServer  # noqa: E402


async def measure(container, fake, url: str, people: dict) -> dict:
    """Play each action once and count."""
    day = field.FieldDay(container, fake, url)
    await day.start()
    user = fake.user(42)
    try:
        await day.say(user, f"/bind {bind_code(container, people['张伟']['id'])}")
        found = {"open a case with its filing form (every question)":
                 await field.open_case_with_filing_form(day, user)}
        photo = jpeg_with_gps(29.3573, 113.1290, datetime.now(UTC))
        found["attach a verified photo (📎 → 文件)"] = await field.attach_verified_photo(
            day, user, photo)
        found["open a case with its filing form (defaults, location shared)"] = \
            await field.open_case_fast(day, user)
        found["attach a verified photo (capture page)"] = \
            await field.verified_photo_in_capture_page(day, user)
        _case_id, number = case_in_investigation(container, people)
        await day.say(user, f"/case {number}")
        await field.inquiry_record(day, user, people["李娜"]["id"])
        await day.send(fake.document(user, phone_video(29.3573, 113.1290, datetime.now(UTC)),
                                     "VID_1.mp4", "video/mp4"))
        await day.press(user, "pv:0")
        found["record a refusal by video"] = await field.refusal_by_video(day, user)
        await field.inquiry_record(day, user, people["李娜"]["id"])
        found["record a refusal with a witness"] = await field.refusal_with_witness(
            day, user, plain_jpeg())
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
        people = {u["name"]: u for u in seed["users"]}
        fake = FakeTelegram(TOKEN)
        with FakeTelegramServer(fake) as server:
            found = asyncio.run(measure(container, fake, server.url, people))
        container.engine.dispose()
    for action, (taps, typed) in found.items():
        print(f"{action}: {taps} taps, {typed} typed answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())

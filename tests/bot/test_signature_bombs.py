"""Issue 12, finding 2, through the bot: a decompression bomb sent as the photo of a signature
or of a witness's signature is refused on its header at intake, with a plain Chinese sentence
naming the image, and the dialog waits for a proper photo (A13.2, A22.2)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.cases.models import Signature
from tests.bot.support import bind, case_in_investigation, plain_jpeg, play
from tests.bot.test_front_parity import INQUIRY_TIMES, QA, _people
from tests.workflow.test_image_bombs import _png_bomb


def _signatures(container) -> int:
    with container.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(Signature)).scalar_one()


def test_bot_refuses_signature_and_witness_bombs_at_intake(container, fake):
    """A13.2 A22.2: the 13000×13000 PNG sent as a file is refused before anything decodes it;
    an ordinary photo then signs."""
    people = _people(container)
    case_in_investigation(container, {**people, "officer": people["张伟"]})
    officer = fake.user(10001, "张伟")
    bomb = _png_bomb()
    log: dict = {}

    async def script(h):
        await bind(h, container, officer, people["张伟"]["id"])
        await h.say(officer, "/case 1")
        await h.say(officer, "/record")
        await h.press(officer, "rt:inquiry_record")
        await h.press(officer, f"ro:{people['李娜']['id']}")
        await h.press(officer, "ro:done")
        for kind, value in (("text", "张三"), ("press", "rf:skip"), ("press", "rf:c0"),
                            ("text", "岳阳市岳阳楼区某路1号工地"), ("text", INQUIRY_TIMES[0]),
                            ("text", INQUIRY_TIMES[1]), ("text", QA), ("press", "rf:b1"),
                            ("press", "rf:b0")):
            await (h.say(officer, value) if kind == "text" else h.press(officer, value))
        await h.press(officer, "rc:ok")
        await h.say(officer, "/sign")
        await h.press(officer, "sg:0")
        await h.press(officer, "so:0")
        await h.press(officer, "sm:signature")
        log["bomb"] = await h.send(fake.document(officer, bomb, "sig.png", "image/png"))
        log["signed_after_bomb"] = _signatures(container)
        log["ink"] = await h.send(fake.photo(officer, plain_jpeg()))
        await h.say(officer, "/refuse")
        await h.press(officer, "rp:0")
        await h.press(officer, "rr:interviewee")
        await h.press(officer, "rn:d")
        await h.say(officer, "拒绝签名，未说明理由")
        await h.press(officer, "rl:d")
        await h.press(officer, "rw:add")
        await h.say(officer, "刘一")
        await h.say(officer, "430602199001010011")
        await h.say(officer, "村委会工作人员")
        log["witness_bomb"] = await h.send(fake.document(officer, bomb, "w.png", "image/png"))
        log["witness_ink"] = await h.send(fake.photo(officer, plain_jpeg()))

    play(container, fake, script)
    assert len(bomb) < 64 * 1024
    assert len(log["bomb"]) == 1 and "签名图片" in log["bomb"][0], log["bomb"]
    assert "13000×13000" in log["bomb"][0] and "超过允许的尺寸" in log["bomb"][0]
    assert log["signed_after_bomb"] == 0
    assert log["ink"] and _signatures(container) == 1, log["ink"]
    assert "见证人签名图片" in log["witness_bomb"][0], log["witness_bomb"]
    assert "13000×13000" in log["witness_bomb"][0]
    assert log["witness_ink"] == ["已添加 1 位见证人。"] or "见证人" in log["witness_ink"][0], \
        log["witness_ink"]

"""A field day through the bot (issue 16), with the update JSON real Telegram sends, over HTTP
to a fake Bot API that stands where a proxy would (not api.telegram.org), and the dialog state
in the database: re-delivered updates, edited messages, a work group, restarts after each kind
of answer, a photo with no case, a 25 MB video, forged buttons. The database is checked after
each; every reply is scanned for English words, raw codes and 32-hex ids."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.cases.models import Case, Evidence, Party
from core.kernel.settings import Settings
from core.platform import keyvalue
from tests.bot import field
from tests.bot.field import FieldDay, foreign, raw_codes
from tests.bot.support import SECRET, TOKEN, bind_code, jpeg_with_gps, phone_video, plain_jpeg

GROUP = -100200300


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    """The bot's settings, reached at an https address (the capture page's button shows)."""
    return Settings(database_url=db_url, instance_path=tmp_path / "instance",
                    storage_url=f"file://{tmp_path / 'blobs'}", telegram_token=TOKEN,
                    telegram_webhook_secret=SECRET, public_url="https://qc.example.cn")


def edited(update: dict, text: str, fake) -> dict:
    """The same message edited later: Telegram sends an edited_message update."""
    message = copy.deepcopy(update["message"])
    message["text"] = text
    message["edit_date"] = int(time.time())
    return {"update_id": next(fake._update_ids), "edited_message": message}


def in_group(update: dict) -> dict:
    """The same kind of message, posted in a work group instead of the private chat."""
    update = copy.deepcopy(update)
    update["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "执法一中队"}
    return update


def _count(container, model, **where) -> int:
    with container.uow() as uow:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return uow.session.execute(q).scalar_one()


def _user_data(container, user) -> dict:
    with container.uow() as uow:
        return keyvalue.get(uow.session, "tg.user", str(user["id"])) or {}


def _play(container, fake, api_server, script):
    async def main():
        day = FieldDay(container, fake, api_server.url)
        await day.start()
        try:
            return await script(day)
        finally:
            await day.close()

    return asyncio.run(main())


def test_redelivered_updates_are_applied_once(container, people, fake, api_server):
    """Telegram re-sends an update after a timeout: a typed answer, a photo and a button press
    delivered twice change the database once, and the second copy gets no answer."""
    user = fake.user(16001)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        await day.press(user, "nk:penalty")
        await day.press(user, "nr:ex_officio")
        title = fake.text(user, "未取得施工许可擅自施工")
        await day.send(title)
        again = await day.deliver_again(title)  # would have become the party's name
        await day.press(user, "np:organisation")
        await day.say(user, "岳阳某建设有限公司")
        await day.press(user, "np:skip")
        await day.send(fake.location(user, 29.3573, 113.1290, accuracy=12))
        await day.press(user, "na:skip")
        await day.press(user, "ne:0")
        await day.press(user, "nc:ok")
        photo = fake.document(user, plain_jpeg(), "IMG_1.jpg", "image/jpeg")
        await day.send(photo)
        photo_again = await day.deliver_again(photo)
        press = fake.press(user, "pv:0")
        await day.send(press)
        press_again = await day.deliver_again(press)
        return again, photo_again, press_again

    again, photo_again, press_again = _play(container, fake, api_server, script)
    assert again == [] and photo_again == [] and press_again == []
    with container.uow() as uow:
        case = uow.session.execute(select(Case)).scalar_one()
        party = uow.session.execute(select(Party)).scalar_one()
    assert case.title == "未取得施工许可擅自施工" and party.name == "岳阳某建设有限公司"
    assert _count(container, Evidence) == 1
    assert _user_data(container, user).get("evidence_queue") == []


def test_redelivery_through_the_webhook_is_skipped(app, container, people, fake):
    """The webhook route: the same update posted twice is handled once."""
    from bot.runner import BotRunner
    from tests.bot.support import SECRET
    from tests.support.telegram_fake import FakeTelegramServer

    user = fake.user(16002)
    with FakeTelegramServer(fake) as server:
        runner = BotRunner(container, base_url=server.url)
        app.extensions["telegram_bot_runner"] = runner
        client = app.test_client()
        update = fake.text(user, "/start")
        try:
            for _ in range(2):
                r = client.post("/telegram/webhook", data=json.dumps(update),
                                content_type="application/json",
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                assert r.status_code == 200
        finally:
            runner.stop()
    assert len(fake.sent(user["id"])) == 1


def test_group_chats_get_one_polite_line_and_no_case_data(container, people, fake, api_server):
    """A bound officer's /cases or /checklist in a work group is not answered with case data;
    a photo posted there joins no case and waits in no queue."""
    user = fake.user(16003)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        for step in ("nk:penalty", "nr:ex_officio"):
            await day.press(user, step)
        await day.say(user, "违法建设")
        await day.press(user, "np:none")
        await day.say(user, "岳阳市某路1号")
        await day.press(user, "ne:0")
        await day.press(user, "nc:ok")
        cases = await day.send(in_group(fake.text(user, "/cases")), GROUP)
        checklist = await day.send(in_group(fake.text(user, "/checklist")), GROUP)
        photo = await day.send(in_group(fake.photo(user, plain_jpeg())), GROUP)
        chatter = await day.send(in_group(fake.text(user, "大家辛苦了")), GROUP)
        return cases, checklist, photo, chatter

    cases, checklist, photo, chatter = _play(container, fake, api_server, script)
    with container.uow() as uow:
        number = uow.session.execute(select(Case.number)).scalar_one()
    for said in (cases, checklist):
        assert len(said) == 1 and "私聊" in said[0] and number not in said[0]
    assert photo == [] and chatter == []
    assert _count(container, Evidence) == 0
    assert not _user_data(container, user).get("evidence_queue")


def test_edited_messages_are_not_new_answers(container, people, fake, api_server):
    """Editing an earlier answer neither crashes the dialog nor changes it; editing an old
    /new starts no new case dialog."""
    user = fake.user(16004)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        new = fake.text(user, "/new")
        await day.send(new)
        await day.press(user, "nk:penalty")
        await day.press(user, "nr:ex_officio")
        title = fake.text(user, "未取得施工许可擅自施工")
        await day.send(title)
        edit = await day.send(edited(title, "改过的案由", fake))
        renew = await day.send(edited(new, "/new", fake))
        follow = await day.press(user, "np:none")
        return edit, renew, follow

    edit, renew, follow = _play(container, fake, api_server, script)
    assert edit == [] and renew == []
    assert follow and follow[0].startswith("（")  # the dialog went on to the site question
    assert _user_data(container, user)["draft_case"]["title"] == "未取得施工许可擅自施工"


def test_restart_after_each_kind_of_answer(container, people, fake, api_server):
    """A new process after a button, a typed answer, a location and a file: the dialog goes on
    with the stored answers, and the file waiting for "what does it prove" is registered even
    though the old process's spool folder is gone."""
    import shutil

    user = fake.user(16005)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        await day.press(user, "nk:penalty")
        await day.restart()  # after a button
        await day.press(user, "nr:ex_officio")
        await day.say(user, "未取得施工许可擅自施工")
        await day.restart()  # after a typed answer
        await day.press(user, "np:organisation")
        await day.say(user, "岳阳某建设有限公司")
        await day.press(user, "np:skip")
        await day.send(fake.location(user, 29.3573, 113.1290, accuracy=12))
        await day.restart()  # after a location
        await day.press(user, "na:skip")
        await day.press(user, "ne:0")
        opened = await day.press(user, "nc:ok")
        await day.send(fake.document(user, plain_jpeg(), "IMG_2.jpg", "image/jpeg"))
        shutil.rmtree(container.blobs.tmp_dir, ignore_errors=True)  # another machine:
        container.blobs.tmp_dir.mkdir(parents=True)  # its spool folder is empty
        await day.restart()  # after a file
        done = await day.press(user, "pv:1")
        return opened, done

    opened, done = _play(container, fake, api_server, script)
    assert opened[0].startswith("✅ 已立案登记")
    assert done[0].startswith("⚠ 证据已登记") or done[0].startswith("✅ 证据已登记")
    with container.uow() as uow:
        case = uow.session.execute(select(Case)).scalar_one()
        ev = uow.session.execute(select(Evidence)).scalar_one()
    assert (case.title, case.site_lat) == ("未取得施工许可擅自施工", 29.3573)
    assert ev.case_id == case.id and ev.filename == "IMG_2.jpg"


def test_nothing_sent_is_lost(container, people, fake, api_server):
    """A photo with no case chosen is kept and offered with the officer's cases; a 25 MB video
    behind a proxy gets the one-time upload link, and so does one whose size Telegram did not
    declare (getFile says "file is too big")."""
    user = fake.user(16006)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        for step in ("nk:penalty", "nr:ex_officio"):
            await day.press(user, step)
        await day.say(user, "违法建设")
        await day.press(user, "np:none")
        await day.say(user, "岳阳市某路1号")
        await day.press(user, "ne:0")
        await day.press(user, "nc:ok")
        day.app.user_data[user["id"]].pop("case_id", None)  # a new day: no case chosen yet
        await day.app.persistence.update_user_data(user["id"], day.app.user_data[user["id"]])
        kept = await day.send(fake.photo(user, plain_jpeg()))
        case_button = next(b for b in day.buttons(user) if b.startswith("pc:"))
        asked = await day.press(user, case_button)
        done = await day.press(user, "pv:0")
        big = await day.send(fake.media(user, "video", b"\0" * 64, size=25 * 1024 * 1024,
                                        mime_type="video/mp4"))
        undeclared = fake.media(user, "video", b"\0" * 64, mime_type="video/mp4")
        body = undeclared["message"]["video"]
        body.pop("file_size")
        fake.files[body["file_id"]] = (b"\0" * 64, 25 * 1024 * 1024)
        big2 = await day.send(undeclared)
        return kept, asked, done, big, big2

    kept, asked, done, big, big2 = _play(container, fake, api_server, script)
    assert kept[-1].startswith("已收到并保存「photo.jpg」")
    assert "证明什么" in asked[0]
    assert "证据已登记" in done[0]
    assert _count(container, Evidence) == 1
    for said in (big, big2):
        assert any("一次性上传链接" in s or "/upload/" in s for s in said), said
        assert not any("抱歉" in s for s in said)


def test_forged_and_stale_buttons_get_a_plain_refusal(container, people, fake, api_server):
    """Tampered callback data (an enum index out of range, an unknown object of proof, a
    prefix no handler knows, another case's id) is refused plainly; nothing crashes."""
    user = fake.user(16007)
    code = bind_code(container, people["张伟"]["id"])

    def forged(data):
        return {"update_id": next(fake._update_ids), "callback_query": {
            "id": str(next(fake._query_ids)), "from": user, "chat_instance": "x",
            "message": {"message_id": 1, "date": int(time.time()),
                        "chat": {"id": user["id"], "type": "private"}, "text": "?"},
            "data": data}}

    async def script(day):
        await day.say(user, f"/bind {code}")
        out = []
        for data in ("pv:9", "rf:c99", "zz:1", "cs:" + "0" * 32, "pc:" + "f" * 32, "nk:bogus"):
            out.append(await day.send(forged(data)))
        return out

    answers = _play(container, fake, api_server, script)
    for said in answers:
        assert said, "every forged button gets an answer"
        assert not any("抱歉" in s for s in said), said
    assert _count(container, Case) == 0 and _count(container, Evidence) == 0


def test_replies_are_chinese_without_codes_or_ids(container, people, fake, api_server):
    """The day's replies to a Chinese-speaking officer: no English word, no raw code of the
    catalogue, no 32-hex id (issue 16 item 7)."""
    user = fake.user(16008)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        await day.press(user, "nk:penalty")
        await day.press(user, "nr:ex_officio")
        await day.say(user, "未取得施工许可擅自施工")
        await day.press(user, "np:organisation")
        await day.say(user, "岳阳某建设有限公司")
        await day.press(user, "np:skip")
        await day.send(fake.location(user, 29.3573, 113.1290, accuracy=12))
        await day.press(user, "na:skip")
        await day.press(user, "ne:0")
        await day.press(user, "nc:ok")
        await day.say(user, "/checklist")
        await day.say(user, "/cases")
        await day.send(fake.document(user, phone_video(29.3573, 113.1290, _now()),
                                     "VID_1.mp4", "video/mp4"))
        await day.press(user, "pv:0")
        await day.say(user, "/record")
        await day.say(user, "/cancel")
        await day.say(user, "/tasks")
        return day.said

    said = _play(container, fake, api_server, script)
    codes = raw_codes()
    problems = {s[:60]: foreign(s, codes) for s in said if foreign(s, codes)}
    assert problems == {}


def _now():
    return datetime.now(UTC)


def test_tap_counts_of_the_measured_actions(container, people, fake, api_server, capsys):
    """Issue 16 Part 2: with the defaults that remember, a case with its 立案审批表 takes at
    most 8 taps (sharing the location included) and 2 typed answers; a verified photo through
    the capture page inside Telegram at most 3 taps. The full path is counted too."""
    from core.cases.models import Record

    user = fake.user(16009)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        found = {"open a case with its filing form (every question)":
                 await field.open_case_with_filing_form(day, user)}
        photo = jpeg_with_gps(29.3573, 113.1290, _now())
        found["attach a verified photo (📎 → 文件)"] = await field.attach_verified_photo(
            day, user, photo)
        found["open a case with its filing form (defaults)"] = await field.open_case_fast(
            day, user)
        found["attach a verified photo (capture page)"] = \
            await field.verified_photo_in_capture_page(day, user)
        found["said"] = day.said
        return found

    found = _play(container, fake, api_server, script)
    said = found.pop("said")
    codes = raw_codes()
    assert {s[:60]: foreign(s, codes) for s in said if foreign(s, codes)} == {}
    with capsys.disabled():
        for action, (taps, typed) in found.items():
            print(f"\n{action}: {taps} taps, {typed} typed answers", end="")
    taps, typed = found["open a case with its filing form (defaults)"]
    assert taps <= 8 and typed <= 2
    assert found["attach a verified photo (capture page)"][0] <= 3
    with container.uow() as uow:
        cases = uow.session.execute(select(Case).order_by(Case.opened_at)).scalars().all()
        forms = uow.session.execute(select(Record).where(Record.type == "filing_form")
                                    ).scalars().all()
        second_party = uow.session.get(Party, cases[1].party_id)
    assert len(cases) == 2 and len(forms) == 2
    assert (cases[1].kind, cases[1].initiation, cases[1].site_lat) == \
        ("penalty", "ex_officio", 29.3573)
    assert (second_party.name, second_party.id_number) == ("岳阳某路桥有限公司",
                                                           "91430600MA4L000001")
    prefilled = next(f for f in forms if f.case_id == cases[1].id)
    assert prefilled.fields["reason"] == "擅自占用道路施工"
    assert prefilled.fields["party_info"] == "岳阳某路桥有限公司（91430600MA4L000001）"


def test_another_command_mid_form_asks_before_throwing_typing_away(container, people, fake,
                                                                   api_server):
    """A command that starts another dialog while a form is half filled asks "继续填写还是
    放弃？": going on keeps every answer; giving up runs the command that was sent."""
    user = fake.user(16010)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        await day.press(user, "nk:penalty")
        await day.press(user, "nr:ex_officio")
        await day.say(user, "未取得施工许可擅自施工")
        asked = await day.say(user, "/complain")
        kept = await day.press(user, "sw:keep")
        draft = dict(_user_data(container, user)["draft_case"])
        went_on = await day.press(user, "np:none")
        await day.say(user, "/complain")
        dropped = await day.press(user, "sw:drop")
        return asked, kept, draft, went_on, dropped

    asked, kept, draft, went_on, dropped = _play(container, fake, api_server, script)
    assert asked == ["您还有一份没填完的内容。继续填写还是放弃？"]
    assert kept == ["好的，请回答上面的问题。"]
    assert draft["title"] == "未取得施工许可擅自施工"
    assert went_on[0].startswith("（5/6）现场位置")
    assert dropped[0] == "已放弃未填完的内容，没有记录。"
    assert dropped[1] == "投诉举报（1/4）：请描述您要反映的问题："
    assert "draft_case" not in _user_data(container, user)


def test_tap_counts_of_refusals(container, people, fake, api_server, capsys):
    """Issue 16 Part 2: a refusal to sign shown by a video takes at most 5 taps and nothing
    typed (A22.2); with a witness, the witness's name, ID number and relation are typed."""
    from core.cases.models import Refusal
    from tests.bot.support import case_in_investigation

    _case_id, number = case_in_investigation(container, people)
    user = fake.user(16011)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, f"/case {number}")
        await field.inquiry_record(day, user, people["李娜"]["id"])
        await day.send(fake.document(user, phone_video(29.3573, 113.1290, _now()),
                                     "VID_1.mp4", "video/mp4"))
        await day.press(user, "pv:0")
        found = {"record a refusal by video": await field.refusal_by_video(day, user)}
        await field.inquiry_record(day, user, people["李娜"]["id"])
        found["record a refusal with a witness"] = await field.refusal_with_witness(
            day, user, plain_jpeg())
        found["said"] = day.said
        return found

    found = _play(container, fake, api_server, script)
    said = found.pop("said")
    with capsys.disabled():
        for action, (taps, typed) in found.items():
            print(f"\n{action}: {taps} taps, {typed} typed answers", end="")
    taps, typed = found["record a refusal by video"]
    assert taps <= 5 and typed == 0
    with container.uow() as uow:
        refusals = uow.session.execute(select(Refusal)).scalars().all()
    assert len(refusals) == 2
    by_video = next(r for r in refusals if r.video_evidence_id)
    assert (by_video.role, by_video.person_name, by_video.refused) == \
        ("interviewee", "张三", "sign")
    assert by_video.reason == "未说明理由" and by_video.place == "岳阳市岳阳楼区某路1号工地"
    codes = raw_codes()
    assert {s[:60]: foreign(s, codes) for s in said if foreign(s, codes)} == {}


def test_after_a_restart_typing_at_a_button_question_asks_it_again(container, people, fake,
                                                                   api_server):
    """A restart, and the officer types where a button was expected: the current question comes
    again with its buttons (the question is kept with the dialog in the database)."""
    user = fake.user(16012)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, "/new")
        await day.press(user, "nk:penalty")
        await day.restart()
        again = await day.say(user, "依职权")
        went_on = await day.press(user, "nr:ex_officio")
        return again, went_on

    again, went_on = _play(container, fake, api_server, script)
    assert again == ["请先回答这个问题（点按钮）：\n（2/6）启动方式？"]
    assert went_on[0].startswith("（3/6）请输入案由")


def test_two_certified_officers_are_checked_when_the_list_is_confirmed(container, people, fake,
                                                                     api_server):
    """A14.1: a field record with one officer is refused when the officer list is confirmed,
    naming the rule, and the list can be fixed there, before any field is answered."""
    from tests.bot.support import case_in_investigation

    _case_id, number = case_in_investigation(container, people)
    user = fake.user(16013)
    code = bind_code(container, people["张伟"]["id"])

    async def script(day):
        await day.say(user, f"/bind {code}")
        await day.say(user, f"/case {number}")
        await day.say(user, "/record")
        await day.press(user, "rt:inquiry_record")
        alone = await day.press(user, "ro:done")
        await day.press(user, f"ro:{people['李娜']['id']}")
        together = await day.press(user, "ro:done")
        return alone, together

    alone, together = _play(container, fake, api_server, script)
    assert len(alone) == 1 and "A14.1" in alone[0] and "两名" in alone[0]
    assert together and "A14.1" not in together[-1]

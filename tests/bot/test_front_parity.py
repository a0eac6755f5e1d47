"""The bot and the API are two fronts over the same core services: the same use cases played
through each leave the same database effect and the same outbox rows, approval requests
included (A10.1), and both show a complaint's tracking number and code once (A11.1)."""

from __future__ import annotations

import io
import shutil

from sqlalchemy import select

from core.bootstrap import bootstrap
from core.cases.models import Approval, Case, Party, Record
from core.deadlines.models import Deadline
from core.kernel.settings import Settings
from core.notices.models import OutboxMessage
from core.people.models import Officer
from core.people.officers import demo_seed
from tests.bot.support import bind, filing_form, open_case, play
from tests.helpers import auth

PEOPLE = {"张伟": 10001, "王强": 10003, "陈静": 10004}
REASON = "未取得施工许可擅自施工，违反《建筑法》第七条"


def _twin_url(db_url: str, tmp_path) -> str:
    """Where the second front plays: a copy of the still empty SQLite database, or on
    PostgreSQL the same database, emptied after the first front (see the test)."""
    if not db_url.startswith("sqlite:///"):
        return db_url
    target = tmp_path / "twin.db"
    shutil.copyfile(db_url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def _second_container(url: str, tmp_path):
    """Another container with its own instance folder and store."""
    return bootstrap(Settings(database_url=url, instance_path=tmp_path / "twin",
                              storage_url=f"file://{tmp_path / 'twin-blobs'}"))


def effect(container) -> dict:
    """What the use cases left behind, without ids and times (names stand for officers)."""
    with container.uow() as uow:
        s = uow.session
        names = {o.id: o.name for o in s.execute(select(Officer)).scalars()}
        chats = {str(tg): name for name, tg in PEOPLE.items()}
        records = s.execute(select(Record).order_by(Record.created_at)).scalars().all()
        kinds = {r.id: r.type for r in records}
        return {
            "cases": [(c.number, c.kind, c.initiation, c.title, c.stage, c.emergency, c.site_lat,
                       c.site_lon, c.site_datum, c.site_address)
                      for c in s.execute(select(Case)).scalars()],
            "parties": [(p.kind, p.name, p.id_number) for p in s.execute(select(Party)).scalars()],
            "records": [(r.type, r.stage, r.fields, [names[o] for o in r.officers],
                         names[r.created_by]) for r in records],
            "approvals": [(kinds[a.record_id], a.step, a.decision, a.opinion, names[a.officer_id])
                          for a in s.execute(select(Approval).order_by(Approval.at)).scalars()],
            "outbox": sorted((m.channel, chats.get(m.recipient, "department room"),
                              names.get(m.officer_id), (m.payload or {}).get("event"), m.body,
                              str((m.payload or {}).get("buttons", "")).count("ap:"), m.status)
                             for m in s.execute(select(OutboxMessage)).scalars()),
            "deadlines": sorted((d.rule_id, d.status)
                                for d in s.execute(select(Deadline)).scalars()),
        }


def _people(container) -> dict:
    with container.uow() as uow:
        seeded = demo_seed(uow.session)
    return {u["name"]: u for u in seeded["users"]}


def _through_the_bot(container, fake) -> dict:
    people = _people(container)
    users = {name: fake.user(tg, name) for name, tg in PEOPLE.items()}

    async def script(h):
        for name, user in users.items():
            await bind(h, container, user, people[name]["id"])
        await open_case(h, users["张伟"])
        submitted = await filing_form(h, users["张伟"])
        for approver in ("王强", "陈静"):
            await h.deliver()  # the request reaches the approver's chat through the outbox
            await h.press(users[approver], h.labelled(users[approver], "同意"))
        return submitted

    return {"said": play(container, fake, script)}


def _through_the_api(container) -> dict:
    from api import create_app

    people = _people(container)
    with container.uow() as uow:  # the same Telegram accounts, bound the same way
        for name, tg in PEOPLE.items():
            uow.session.get(Officer, people[name]["id"]).telegram_user_id = tg
    client = create_app({"CONTAINER": container, "TESTING": True}).test_client()
    case = client.post("/api/v1/cases", headers=auth(people["张伟"]), json={
        "kind": "penalty", "initiation": "ex_officio", "title": "未取得施工许可擅自施工",
        "party": {"kind": "organisation", "name": "岳阳某建设有限公司",
                  "id_number": "91430600MA4L000000"},
        "site": {"lat": 29.3573, "lon": 113.129, "datum": "wgs84",
                 "address": "岳阳市岳阳楼区某路1号"}, "emergency": False}).get_json()
    record = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["张伟"]),
                         json={"type": "filing_form", "fields": {
                             "reason": REASON,
                             "party_info": "岳阳某建设有限公司（91430600MA4L000000）",
                             "officer_opinion": "建议立案调查"}}).get_json()
    answers = [client.post(f"/api/v1/cases/{case['id']}/records/{record['id']}/approvals",
                           headers=auth(people[name]),
                           json={"decision": "approve", "opinion": "同意"}).get_json()
               for name in ("王强", "陈静")]
    return {"record": record, "answers": answers}


def test_open_file_and_approve_leave_the_same_record_and_outbox(container, fake, db_url,
                                                                tmp_path):
    """A10.1: opening a case, its 立案审批表 and both approvals, once through the bot and once
    through the API: the same cases, records, approvals, deadlines and outbox rows (the
    approval requests to the supervisor and the head, the submitter's news)."""
    twin_url = _twin_url(db_url, tmp_path)
    bot_said = _through_the_bot(container, fake)
    bot_effect = effect(container)
    container.engine.dispose()
    if not db_url.startswith("sqlite"):
        from tests.conftest import reset_database

        reset_database(db_url)
    twin = _second_container(twin_url, tmp_path)
    try:
        api_said = _through_the_api(twin)
        api_effect = effect(twin)
    finally:
        twin.engine.dispose()
    # Bot-delivered rows were sent (the harness delivered them); compare what was queued.
    for rows in (bot_effect["outbox"], api_effect["outbox"]):
        rows[:] = sorted(r[:-1] for r in rows)
    assert api_effect == bot_effect
    requested = [r for r in api_effect["outbox"] if r[3] == "approval.requested"]
    assert {(r[0], r[1]) for r in requested} == {
        ("telegram", "王强"), ("socketio", "department room"), ("telegram", "陈静")}
    assert all(r[5] == 2 for r in requested if r[0] == "telegram")  # ✅ and ↩ buttons
    assert bot_said["said"][1] == "已提交审批，已通知：王强。"
    assert [a["next_step"] for a in api_said["answers"]][-1] is None
    assert api_said["answers"][0]["next_step"]["officers"][0]["name"] == "陈静"


INQUIRY_TIMES = ("2026-11-26 09:00", "2026-11-26 09:40")
WITNESS_NAMES = (("刘一", "430602199001010011"), ("陈二", "430602199202020022"))
QA = "问：是否取得施工许可？答：没有。"


def investigation_effect(container) -> dict:
    """The investigation record, its signatures, refusal and evidence, without ids and times."""
    from core.cases.models import Evidence, Refusal, Signature

    base = effect(container)
    with container.uow() as uow:
        s = uow.session
        names = {o.id: o.name for o in s.execute(select(Officer)).scalars()}
        return {
            "records": base["records"],
            "signatures": sorted((g.role, g.signer_name, names.get(g.signer_officer_id),
                                  g.method, g.image_sha256)
                                 for g in s.execute(select(Signature)).scalars()),
            "refusals": [(r.role, r.person_name, r.refused, r.reason, r.place,
                          [(w["name"], w["id_number"], w["relation"], w["signature_sha256"])
                           for w in r.witnesses])
                         for r in s.execute(select(Refusal)).scalars()],
            # Provenance (method, file name) is the front's own: a Telegram document or a
            # multipart upload; what was stored and what it proves must agree.
            "evidence": sorted((e.sha256, e.size, e.media_type, e.proves, e.record_id is not None,
                                e.assurance, sorted(c["name"] + ":" + c["status"]
                                                    for c in e.checks))
                               for e in s.execute(select(Evidence)).scalars()
                               if e.media_type.startswith("image/")),
        }


def test_record_sign_refuse_and_evidence_leave_the_same_effect(container, fake, db_url,
                                                               tmp_path):
    """A14.1, A13.2, A22.2, A31.1: an inquiry record with two certified officers, both officers'
    signatures, the interviewee's refusal before two witnesses and a photo as evidence of it,
    once through the bot and once through the API: the same rows."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.bot.support import case_in_investigation, jpeg_with_gps, plain_jpeg

    tz = ZoneInfo("Asia/Shanghai")
    taken = datetime(2026, 11, 26, 9, 20, tzinfo=tz)
    photo, ink = jpeg_with_gps(29.3573, 113.1290, taken), plain_jpeg()
    twin_url = _twin_url(db_url, tmp_path)

    people = _people(container)
    case_in_investigation(container, {**people, "officer": people["张伟"]})
    officer = fake.user(10001, "张伟")

    async def script(h):
        await bind(h, container, officer, people["张伟"]["id"])
        await h.say(officer, "/case 1")  # the department's first case this year
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
        for _ in range(2):  # both officers sign (A13.2)
            await h.say(officer, "/sign")
            await h.press(officer, "sg:0")
            await h.press(officer, "so:0")
            await h.press(officer, "sm:signature")
            await h.send(fake.photo(officer, ink))
        await h.say(officer, "/refuse")
        await h.press(officer, "rp:0")
        await h.press(officer, "rr:interviewee")
        await h.press(officer, "rn:d")
        await h.say(officer, "拒绝签名，未说明理由")
        await h.press(officer, "rl:d")
        for name, idn in WITNESS_NAMES:
            await h.press(officer, "rw:add")
            await h.say(officer, name)
            await h.say(officer, idn)
            await h.say(officer, "村委会工作人员")
            await h.send(fake.photo(officer, ink))
        await h.press(officer, "rw:done")
        await h.press(officer, "rc2:ok")
        await h.send(fake.document(officer, photo, "IMG_0001.jpg", "image/jpeg"))
        await h.press(officer, "pv:0")  # 现场情况

    play(container, fake, script)
    bot = investigation_effect(container)
    container.engine.dispose()
    if not db_url.startswith("sqlite"):
        from tests.conftest import reset_database

        reset_database(db_url)
    twin = _second_container(twin_url, tmp_path)
    try:
        api_people = _people(twin)
        case_id, _ = case_in_investigation(twin, {**api_people, "officer": api_people["张伟"]})
        _api_investigation(twin, api_people, case_id, photo, ink, tz)
        api = investigation_effect(twin)
    finally:
        twin.engine.dispose()
    assert api == bot
    assert len(bot["signatures"]) == 2 and len(bot["refusals"][0][5]) == 2
    assert len(bot["evidence"]) == 1


def _api_investigation(container, people, case_id, photo, ink, tz) -> None:
    import base64
    from datetime import datetime

    from api import create_app

    client = create_app({"CONTAINER": container, "TESTING": True}).test_client()
    hdr = auth(people["张伟"])

    def iso(text: str) -> str:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz).isoformat()

    record = client.post(f"/api/v1/cases/{case_id}/records", headers=hdr, json={
        "type": "inquiry_record", "officers": [people["张伟"]["id"], people["李娜"]["id"]],
        "fields": {"interviewee_name": "张三", "interviewee_role": "party",
                   "place": "岳阳市岳阳楼区某路1号工地", "started_at": iso(INQUIRY_TIMES[0]),
                   "ended_at": iso(INQUIRY_TIMES[1]), "content": QA,
                   "certificates_shown": True, "recusal_requested": False}}).get_json()
    image = base64.b64encode(ink).decode()
    for who in ("张伟", "李娜"):
        r = client.post(f"/api/v1/cases/{case_id}/records/{record['id']}/signatures",
                        headers=hdr, json={"role": "officer", "method": "signature",
                                           "signer_officer_id": people[who]["id"],
                                           "on_behalf": True, "image_base64": image})
        assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/cases/{case_id}/records/{record['id']}/refusals", headers=hdr,
                    json={"role": "interviewee", "person_name": "张三",
                          "reason": "拒绝签名，未说明理由", "place": "岳阳市岳阳楼区某路1号工地",
                          "witnesses": [{"name": n, "id_number": i, "relation": "村委会工作人员",
                                         "signature_image_base64": image}
                                        for n, i in WITNESS_NAMES]})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/cases/{case_id}/evidence", headers=hdr, data={
        "proves": "现场情况", "method": "photo",
        "file": (io.BytesIO(photo), "IMG_0001.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()

"""A37.1 (issue 12): over a full scenario — records, approvals, signatures, refusals, service,
evidence, a complaint (and a public one through the intake queue), deadlines and reminders,
officers, roles, certificates, tokens and the calendar — every column of every table is
changed one at a time, and `ledger verify` catches each change to a record, person, role,
token, deadline or calendar row, naming the table, row and column (mirrored tables) or the
entry (the case record). The tables and columns it leaves out are listed below with the
reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from core import ledger
from core.cases import records
from core.cases.commands import AddRecord
from core.complaints import intake
from core.complaints.models import ComplaintIntake
from core.complaints.public import PublicComplaint, submit_public
from core.deadlines.models import Deadline, Reminder
from core.deadlines.reminders import claim_due_reminders, expand_reminders
from core.kernel.clock import utcnow
from core.ledger.models import LedgerEntry, LedgerState
from core.people.models import ApiToken, Officer
from core.people.officers import add_officer, get_officer, issue_token
from core.platform.db import Base
from core.rules.calendar_store import add_override, declare_year
from tests.archive.support import every_afterlife_row
from tests.integration.test_ledger_tamper import _mutated, forger
from tests.workflow.flow import Flow

# Tables the ledger does not cover, and why (what an attacker with database access can change
# there without detection).
LEFT_OUT = {
    "access_log": "the A33.1 log of reads: one row per read; ledgering every read would put "
                  "each GET under the ledger's head lock",
    "outbox": "the delivery queue (working state: status, attempts, errors); what was decided "
              "to be sent — reminders, complainant notices as records — is ledgered",
    "upload_links": "one-time upload credentials (working state); what they bring in is "
                    "ledgered as evidence",
    "upload_sessions": "resumable upload progress (working state)",
    "idempotent_requests": "the replay cache of API responses (working state)",
    "bind_codes": "one-time binding secrets; the binding itself (officers.telegram_user_id) is "
                  "ledgered",
    "evidence_previews": "thumbnails derived from the ledgered evidence blob, regenerable",
    "media_tasks": "the media work owed (thumbnails): status, attempts, leases (working state)",
    "kv_entries": "the bot's dialog state between updates (working state)",
    "dossier_jobs": "a dossier build's progress (working state); the built volume is the "
                    "ledgered dossiers row",
    "web_sign_in_links": "one-time staff sign-in secrets (working state); what a signed-in "
                         "officer does is ledgered as it always is",
    "web_sessions": "browser sessions of the pages (working state); sign-ins and sign-outs are "
                    "in the access log",
}
# Columns of covered tables that are working state, and why.
WORKING_COLUMNS = {
    ("api_tokens", "last_used_at"): "when the token last authenticated, to the nearest five "
                                    "minutes (issue 12); its validity (revoked_at, expires_at) "
                                    "is ledgered",
    ("reminders", "claimed_at"): "when a sweeper claimed the reminder; the claim is the sweep's "
                                 "working state (a claimed reminder is pending for the ledger)",
    ("ledger_checkpoints", "id"): "a row number: a checkpoint is its signed note",
    ("complaint_intakes", "confirm_hash"): "the hash of a one-time contact confirmation code "
                                           "(working state); the confirmation itself "
                                           "(contact_confirmed_at) is ledgered",
    ("complaint_intakes", "confirm_expires_at"): "when that one-time code stops working",
    ("ledger_timestamps", "id"): "a row number",
    ("ledger_timestamps", "tsa_url"): "where the token was fetched; the token is checked "
                                      "against the configured authority's certificate",
    ("ledger_timestamps", "attempts"): "retry state",
    ("ledger_timestamps", "last_error"): "retry state",
    ("ledger_timestamps", "next_try_at"): "retry state",
    ("ledger_timestamps", "created_at"): "when the request was queued; the token carries the "
                                         "authority's time",
}
LEDGER_OWN = {"ledger_entries", "ledger_hashes", "ledger_head", "ledger_checkpoints",
              "ledger_timestamps"}


@pytest.fixture
def flow(client, people, container, clock) -> Flow:
    """The workflow tests' driver of cases through the API."""
    return Flow(client, people, container, clock)


def _play(flow: Flow, container, people, clock) -> dict:
    """The scenario; returns ids the checks need."""
    case = flow.filed()
    inspection = flow.record(case, "onsite_inspection_record")
    flow.sign_all(case, inspection, skip=("party",))
    flow.refuse(case, inspection, "party")
    flow.av(case, inspection["id"])
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion", **{"legal_review_required": True})
    flow.done(case, "legal_review", user=flow.people["legal_reviewer"])
    notice = flow.done(case, "rights_notice")
    flow.serve(case, notice, "lodged")  # opens the A22.1 statement period
    complaint = flow.open(initiation="complaint", title="噪音扰民 投诉")
    with container.uow() as uow:
        actor = uow.session.get(Officer, people["officer"]["id"])
        records.add_record(uow, actor, complaint["id"], AddRecord.parse({
            "type": "complaint_intake", "fields": {
            "complainant_name": "王五", "complainant_contact": "wang.wu@example.com",
            "channel": "online", "received_at": "2026-09-30T10:00:00+08:00",
            "content": "工地夜间施工噪音扰民"}}))
    # A public complaint through the intake queue (issue 12, finding 5), accepted.
    with container.uow() as uow:
        submitted = submit_public(uow, PublicComplaint.parse(
            {"what": "占道施工", "contact": "li.si@example.com", "where": "某路口"}))
    with container.uow() as uow:
        item = uow.session.execute(select(ComplaintIntake).where(
            ComplaintIntake.tracking_no == submitted["tracking_no"])).scalar_one()
        intake.accept(uow, uow.session.get(Officer, people["supervisor"]["id"]), item.id)
    # People: a new officer, then roles, certificate, deactivation, tokens issued and revoked.
    with container.uow() as uow:
        ledger.acting(uow.session, "test:admin")
        head = get_officer(uow.session, people["head"]["id"])
        newcomer = add_officer(uow.session, _dept(uow.session, head), "赵六", ["officer"],
                               "湘执430600009")
        issue_token(uow.session, newcomer, label="phone")
    with container.uow() as uow:
        o = uow.session.get(Officer, newcomer.id)
        o.roles = ["officer", "supervisor"]
        o.certificate_no = "湘执430600010"
    with container.uow() as uow:
        token = uow.session.execute(select(ApiToken).where(ApiToken.officer_id == newcomer.id)
                                    ).scalar_one()
        token.revoked_at = utcnow()
        uow.session.get(Officer, people["officer2"]["id"]).active = False
    # The calendar: a 调休 working day and a declared year.
    with container.uow() as uow:
        add_override(uow.session, "cli:admin", date(2027, 2, 7), True, "2027 春节调休",
                     channel="cli")
        declare_year(uow.session, "cli:admin", 2027, "国务院办公厅关于2027年部分节假日安排的通知",
                     channel="cli")
    # Reminders fall due, are claimed and expanded; time passes.
    clock.advance(days=30)
    with container.uow() as uow:
        ids = claim_due_reminders(uow.session, utcnow(), limit=3)
        expand_reminders(uow.session, ids)
    with container.uow() as uow:
        ids = claim_due_reminders(uow.session, utcnow(), limit=1)  # left claimed
    # The afterlife (A32–A35): a volume archived, used, on hold, asked for and disclosed.
    every_afterlife_row(flow, container, people, case["id"])
    return {"case": case, "newcomer": newcomer.id, "claimed": ids}


def _dept(session, officer):
    from core.people.models import Department

    return session.get(Department, officer.department_id)


def _verify(container):
    with container.uow() as uow:
        return ledger.verify(uow.session, uow.signer, uow.blobs)


def _unique(column) -> bool:
    """True when the column alone is unique (a changed value must not be another row's)."""
    from sqlalchemy import UniqueConstraint

    return bool(column.unique) or any(
        isinstance(c, UniqueConstraint) and [x.name for x in c.columns] == [column.name]
        for c in column.table.constraints)


def _new_value(value, column):
    """A different value of the column's type (a value for a NULL too)."""
    if value is not None:
        if isinstance(value, str) and value and _unique(column):
            # "…00002" → "…00003" may be another row's number (three cases here).
            return value[:-1] + ("~" if value[-1] != "~" else "!")
        if isinstance(value, int) and not isinstance(value, bool):
            return value + 1_000_000  # a free number: +1 may collide in a unique column
        if isinstance(value, bytes):
            return value[:-1] + bytes([value[-1] ^ 1]) if value else b"\x01"
        if isinstance(value, date) and not isinstance(value, datetime):
            return value + timedelta(days=1)
        return _mutated(value, column)
    col_type = getattr(column.type, "impl_instance", column.type)  # UTCDateTime → DateTime
    try:
        kind = col_type.python_type
    except NotImplementedError:
        kind = dict
    length = getattr(column.type, "length", None) or 8
    return {str: "tampered"[:length], int: 7, float: 1.5, bool: True, bytes: b"\x01" * 32,
            datetime: datetime(2031, 1, 1, tzinfo=UTC), date: date(2031, 1, 1),
            dict: {"tampered": True}, list: ["tampered"]}[kind]


def _pick(conn, table):
    """One row of the table: the middle one for the log's own tables, else the first."""
    rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
    if not rows:
        return None
    return rows[len(rows) // 2] if table.name in ("ledger_entries", "ledger_hashes") else rows[0]


def _entry_of(container, table_name: str, row_id) -> int | None:
    with container.uow() as uow:
        return uow.session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.subject_table == table_name, LedgerEntry.subject_id == str(row_id))
        ).scalar_one_or_none()


def test_every_change_to_every_table_of_a_full_scenario_is_caught(flow, container, people, clock):
    """A37.1: each column of each ledgered table, changed alone, makes verify report it: by
    table, row and column for people, tokens, deadlines, reminders, the calendar and
    complaint tickets; by entry for the case record and the ledger's own tables."""
    ids = _play(flow, container, people, clock)
    report = _verify(container)
    assert report.ok, report.damages[:3]

    with container.uow() as uow:
        kinds = set(uow.session.execute(select(LedgerState.table_name)).scalars())
        events = set(uow.session.execute(select(LedgerState.event)).scalars())
    assert set(ledger.MIRRORED) <= kinds | {"complaint_tickets"} and "complaint_tickets" in kinds
    assert {"officer.created", "officer.certificate_changed+roles_changed", "officer.deactivated",
            "token.issued", "token.revoked", "deadline.opened", "reminder.scheduled",
            "reminder.done", "calendar.override_added", "calendar.year_declared",
            "rules.figures_in_force", "complaint_intake.received",
            "complaint_intake.accepted"} <= events, events
    assert ids["claimed"], "the scenario leaves one reminder claimed"

    covered = {c.model.__tablename__: kind for kind, c in ledger.COVERED.items()}
    tried: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in LEFT_OUT:
            continue
        assert table.name in covered or table.name in ledger.MIRRORED or \
            table.name in LEDGER_OWN, f"{table.name} is neither ledgered nor listed as left out"
        with container.engine.connect() as conn:
            row = _pick(conn, table)
        if row is None:
            assert table.name == "ledger_timestamps", f"the scenario left {table.name} empty"
            continue  # no TSA here: tests/integration/test_timestamps.py tampers with tokens
        pk = {c.name: row._mapping[c.name] for c in table.primary_key.columns}
        where = [table.c[k] == v for k, v in pk.items()]
        for column in table.columns:
            if (table.name, column.name) in WORKING_COLUMNS:
                continue
            original = row._mapping[column.name]
            new = _new_value(original, column)
            with forger(container) as conn:
                conn.execute(update(table).where(*where).values({column.name: new}))
            try:
                report = _verify(container)
            finally:
                with forger(container) as conn:
                    moved = [table.c[column.name] == new] if column.primary_key else where
                    conn.execute(update(table).where(*moved).values({column.name: original}))
            what = f"{table.name}.{column.name}"
            assert not report.ok, f"{what} change went unnoticed"
            if table.name in ledger.MIRRORED:
                key = "/".join(str(v) for v in pk.values())
                named = [d for d in report.damages if d.table == table.name]
                assert named, (what, report.damages[:3])
                if not column.primary_key:
                    assert any(d.row == key and d.column == column.name for d in named), \
                        (what, named[:3])
            elif column.name in ledger.COVERED[covered.get(table.name, "")].projections \
                    if table.name in covered else False:
                # A projection (a case's stage) is named at the stage change it contradicts.
                assert column.name in report.first().message, (what, report.first())
            elif table.name in covered:
                seq = _entry_of(container, table.name, pk.get("id"))
                first = report.first()
                assert first.seq == seq, (what, first)
            tried[table.name] = tried.get(table.name, 0) + 1
        assert _verify(container).ok, f"{table.name} not restored"
    expected = set(covered) | set(ledger.MIRRORED) | (LEDGER_OWN - {"ledger_timestamps"})
    assert set(tried) == expected, set(tried) ^ expected


def test_rows_added_or_removed_behind_the_services_are_named(flow, container, people, clock):
    """A37.1: an officer or token inserted straight into the database, a deadline deleted,
    and an officer's roles rewritten are each reported by table and row."""
    ids = _play(flow, container, people, clock)
    with container.uow() as uow:
        officer = uow.session.get(Officer, ids["newcomer"])
        dept_id = officer.department_id
        deadline_id = uow.session.execute(select(Deadline.id)).scalars().first()
    with forger(container) as conn:
        conn.execute(insert(Officer.__table__).values(
            id="f" * 32, department_id=dept_id, name="冒名", certificate_no=None,
            roles=["head"], telegram_user_id=None, lang="zh", active=True, created_at=utcnow()))
        conn.execute(insert(ApiToken.__table__).values(
            id="e" * 32, officer_id="f" * 32, token_hash="0" * 64, label="", created_at=utcnow(),
            revoked_at=None))
        conn.execute(delete(Reminder.__table__).where(Reminder.deadline_id == deadline_id))
        conn.execute(delete(Deadline.__table__).where(Deadline.id == deadline_id))
        conn.execute(update(Officer.__table__).where(Officer.id == ids["newcomer"])
                     .values(roles=["head"]))
    report = _verify(container)
    by = {(d.table, d.row, d.column) for d in report.damages}
    assert ("officers", "f" * 32, None) in by and ("api_tokens", "e" * 32, None) in by
    assert ("deadlines", deadline_id, None) in by
    assert ("officers", ids["newcomer"], "roles") in by
    messages = " ".join(d.message for d in report.damages)
    assert "not on the ledger" in messages and "is missing" in messages


def test_a_claimed_reminder_is_pending_for_the_ledger(flow, container, people, clock):
    """A37.1: the sweep's claim (pending → claimed, claimed_at) is working state, not a change;
    a reminder marked done in the database without its ledgered event is reported."""
    ids = _play(flow, container, people, clock)
    assert _verify(container).ok
    claimed = ids["claimed"][0]
    with forger(container) as conn:
        conn.execute(update(Reminder.__table__).where(Reminder.id == claimed)
                     .values(status="pending", claimed_at=None))
    assert _verify(container).ok
    with forger(container) as conn:
        conn.execute(update(Reminder.__table__).where(Reminder.id == claimed)
                     .values(status="done"))
    report = _verify(container)
    assert ("reminders", claimed, "status") in {(d.table, d.row, d.column)
                                                for d in report.damages}


def test_a_changed_ledger_entry_time_is_caught(flow, container, people, clock):
    """A37.1: a ledger entry's created_at is part of its leaf ("at"), so moving it fails."""
    _play(flow, container, people, clock)
    with container.uow() as uow:
        seq, at = uow.session.execute(select(LedgerEntry.seq, LedgerEntry.created_at)
                                      .order_by(LedgerEntry.seq).offset(5).limit(1)).one()
    with forger(container) as conn:
        conn.execute(update(LedgerEntry.__table__).where(LedgerEntry.seq == seq)
                     .values(created_at=at - timedelta(days=3)))
    assert _verify(container).first().seq == seq


@pytest.mark.parametrize("column", ["created_at", "reason", "key_id"])
def test_checkpoint_time_reason_and_key_are_signed(flow, container, people, clock, column):
    """A37.1: a checkpoint's time and reason are in its signed note; a checkpoint naming an
    unknown key is reported instead of being skipped."""
    _play(flow, container, people, clock)
    from core.ledger.models import LedgerCheckpoint

    t = LedgerCheckpoint.__table__
    value = {"created_at": utcnow() - timedelta(days=400), "reason": "cli",
             "key_id": "0" * 16}[column]
    with forger(container) as conn:
        first = conn.execute(select(t.c.id).order_by(t.c.id).limit(1)).scalar_one()
        conn.execute(update(t).where(t.c.id == first).values({column: value}))
    report = _verify(container)
    assert any(f"checkpoint {first}" in d.message for d in report.damages), report.damages


def test_verify_batch_encoder_gives_the_canonical_leaf_of_every_kind(flow, container, people,
                                                                      clock):
    """A37.1 (issue 13): the compiled per-table encoder verify hashes batches with gives, for
    every entry of every covered kind of a full scenario, exactly the leaf the reference
    encoder (canonical_json, what append writes) gives, so no intact row needs the slow path;
    and a row changed in one column gets no leaf from it (it is looked at alone)."""
    import importlib

    from core.ledger.log import canonical_json, leaf_document

    verify_module = importlib.import_module("core.ledger.verify")
    _play(flow, container, people, clock)
    seen: set[str] = set()
    with container.uow() as uow:
        session, hasher = uow.session, uow.signer.suite.hasher
        verify_module._prepare(session)
        for stream in verify_module._streams(session, hasher, 7, set()):  # every kind fast
            for seq, leaf, _ in stream:
                entry = session.get(LedgerEntry, seq)
                coverage = ledger.COVERED.get(entry.kind)
                if coverage is None:
                    assert leaf is None
                    continue
                row = session.get(coverage.model, entry.subject_id)
                reference = hasher.leaf(canonical_json(leaf_document(entry, row)))
                assert leaf == reference == entry.leaf_hash, (seq, entry.kind)
                seen.add(entry.kind)
    assert seen == set(ledger.COVERED), set(ledger.COVERED) - seen

    with container.uow() as uow:
        party = uow.session.execute(select(LedgerEntry).where(LedgerEntry.kind == "party")
                                    .limit(1)).scalar_one()
        model = ledger.COVERED["party"].model
        original = uow.session.get(model, party.subject_id).name
    for value in (original + " ", original):
        with container.engine.begin() as conn:
            conn.execute(update(model.__table__).where(model.__table__.c.id == party.subject_id)
                         .values(name=value))
        with container.uow() as uow:
            verify_module._prepare(uow.session)
            leaves = {seq: leaf for stream in verify_module._streams(
                uow.session, uow.signer.suite.hasher, 7, set()) for seq, leaf, _ in stream}
        assert (leaves[party.seq] is None) == (value != original)

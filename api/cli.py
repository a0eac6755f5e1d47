"""Command-line tools (CONTRACT.md): demo seed, officers, ledger, integrity, database."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from core import ledger
from core.evidence import integrity as integrity_service
from core.kernel.errors import DomainError
from core.people.officers import add_officer, demo_seed, get_officer, issue_bind_code, issue_token

from .auth import container

demo = AppGroup("demo", help="Demo data.")
officers = AppGroup("officers", help="Manage officers and their API tokens.")
ledger_cli = AppGroup("ledger", help="The tamper-evident ledger.")
integrity = AppGroup("integrity", help="Integrity checks of stored evidence.")
db_cli = AppGroup("db", help="Database migrations.")


@demo.command("seed")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def seed(as_json: bool) -> None:
    """Create the demo department and six people, a custodian among them (idempotent);
    print their tokens. Refused when APP_ENV=production: demo people with printed tokens
    have no place there."""
    if container().settings.production:
        raise click.ClickException("demo seed is refused when APP_ENV=production")
    with container().uow() as uow:
        out = demo_seed(uow.session)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(f"{out['department']['name']} ({out['department']['code']})")
        for u in out["users"]:
            click.echo(f"  {u['role']:<15} {u['name']}  id={u['id']}  token={u['token']}")


@officers.command("add")
@click.option("--department", "dept_code", required=True, help="Department code.")
@click.option("--department-name", default=None, help="Name, when creating the department.")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              help="officer, supervisor, legal_reviewer, head, custodian, admin, auditor")
@click.option("--certificate", default=None, help="执法证号 (law-enforcement certificate).")
@click.option("--json", "as_json", is_flag=True)
def officers_add(dept_code, department_name, name, roles, certificate, as_json) -> None:
    """Add an officer and print a first API token."""
    from core.people.officers import department_by_code, ensure_department

    try:
        with container().uow() as uow:
            ledger.acting(uow.session, "cli:officers add")
            dept = department_by_code(uow.session, dept_code)
            if dept is None:
                if not department_name:
                    raise click.UsageError(f"no department {dept_code}; pass --department-name "
                                           "to create it")
                dept = ensure_department(uow.session, dept_code, department_name)
            officer = add_officer(uow.session, dept, name, list(roles), certificate)
            token = issue_token(uow.session, officer, label="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    out = {"id": officer.id, "name": officer.name, "roles": officer.roles, "token": token}
    click.echo(json.dumps(out, ensure_ascii=False) if as_json else
               f"{officer.name} id={officer.id} token={token}")


@officers.command("token")
@click.argument("officer_id")
def officers_token(officer_id: str) -> None:
    """Issue a new API token for an officer (shown once)."""
    try:
        with container().uow() as uow:
            ledger.acting(uow.session, "cli:officers token")
            token = issue_token(uow.session, get_officer(uow.session, officer_id), label="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(token)


@officers.command("web-link")
@click.argument("officer_id")
def officers_web_link(officer_id: str) -> None:
    """Print a one-time link that signs the officer in to the desk (valid 15 minutes)."""
    from core.people import web_sessions

    try:
        with container().uow() as uow:
            link = web_sessions.issue_link(uow, officer_id, channel="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(link.url)


@officers.command("bind-code")
@click.argument("officer_id")
def officers_bind_code(officer_id: str) -> None:
    """Print a one-time code that binds the officer's Telegram account (valid 15 minutes)."""
    try:
        with container().uow() as uow:
            code = issue_bind_code(uow.session, get_officer(uow.session, officer_id))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(code)


def _officer_line(v: dict) -> str:
    tokens = ", ".join(f"{t['id'][:8]}:{t['status']}"
                       + (f" used {t['last_used_at'][:16]}" if t["last_used_at"] else "")
                       for t in v["tokens"]) or "no tokens"
    cert = f"证 {v['certificate_no']}" if v["certified"] else "NO CERTIFICATE"
    return (f"{v['id']}  {v['name']}  [{','.join(v['roles'])}]  {cert}  "
            f"{'active' if v['active'] else 'DEACTIVATED'}  "
            f"{'telegram' if v['telegram_bound'] else '-'}  {tokens}")


@officers.command("list")
@click.option("--department", "dept_code", default=None, help="Department code (all if unset).")
@click.option("--json", "as_json", is_flag=True)
def officers_list(dept_code, as_json) -> None:
    """The department's officers with certificate, binding and token status."""
    from core.kernel.clock import utcnow
    from core.people import credentials
    from core.people.officers import department_by_code

    with container().uow() as uow:
        dept_id = None
        if dept_code:
            dept = department_by_code(uow.session, dept_code)
            if dept is None:
                raise click.ClickException(f"no department {dept_code}")
            dept_id = dept.id
        views = credentials.list_officers(uow.session, None, dept_id, channel="cli")
        out = [credentials.officer_json(v, utcnow()) for v in views]
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        for v in out:
            click.echo(_officer_line(v))


def _admin(fn, *args):
    try:
        with container().uow() as uow:
            return fn(uow, *args)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@officers.command("deactivate")
@click.argument("officer_id")
def officers_deactivate(officer_id: str) -> None:
    """Deactivate an officer: tokens revoked, Telegram binding ended (the chat is told)."""
    from core.notices.bindings import deactivate_officer

    officer = _admin(lambda uow: deactivate_officer(uow, None, officer_id))
    click.echo(f"{officer.name} deactivated; tokens revoked, binding ended")


@officers.command("reactivate")
@click.argument("officer_id")
def officers_reactivate(officer_id: str) -> None:
    """Let a deactivated officer work again (issue a new token and bind code)."""
    from core.people import credentials

    officer = _admin(lambda uow: credentials.reactivate(uow.session, None, officer_id))
    click.echo(f"{officer.name} reactivated")


@officers.command("roles")
@click.argument("officer_id")
@click.argument("roles", nargs=-1, required=True)
def officers_roles(officer_id: str, roles: tuple[str, ...]) -> None:
    """Replace an officer's roles, e.g. `flask officers roles ID officer supervisor`."""
    from core.people import credentials

    officer = _admin(lambda uow: credentials.set_roles(uow.session, None, officer_id,
                                                       list(roles)))
    click.echo(f"{officer.name}: {', '.join(officer.roles)}")


@officers.command("revoke-token")
@click.argument("token_id")
def officers_revoke_token(token_id: str) -> None:
    """Revoke one API token (its id from `flask officers list`)."""
    from core.people import credentials

    token = _admin(lambda uow: credentials.revoke_token(uow.session, None, token_id))
    click.echo(f"token {token.id} revoked")


@officers.command("unbind")
@click.argument("officer_id")
def officers_unbind(officer_id: str) -> None:
    """End an officer's Telegram binding (the chat is told); then a new bind code may be used."""
    from core.notices.bindings import unbind_officer

    officer = _admin(lambda uow: unbind_officer(uow, None, officer_id))
    click.echo(f"{officer.name}: Telegram binding ended")


@ledger_cli.command("verify")
@click.option("--no-blobs", is_flag=True, help="Skip re-hashing evidence blobs.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Processes recomputing leaves on PostgreSQL (0: one per CPU from "
                   "500,000 entries on, else this one; 1: this one alone).")
def ledger_verify(no_blobs: bool, quiet: bool, workers: int) -> None:
    """Recompute the whole log from the live rows and blobs; exit 1 naming the first damage."""
    c = container()
    with c.uow() as uow:
        ledger.one_snapshot(uow.session)  # appends made meanwhile are not half-seen
        total = ledger.current_size(uow.session)
        with click.progressbar(length=max(total, 1), label="verifying the ledger",
                               file=sys.stderr, hidden=quiet) as bar:
            done = [0]

            def progress(n: int, _total: int) -> None:
                bar.update(n - done[0])
                done[0] = n

            report = ledger.verify(uow.session, uow.signer, None if no_blobs else uow.blobs,
                                   progress=progress, workers=workers)
    if report.ok:
        click.echo(f"ledger intact: {report.entries} entries, {report.checkpoints} checkpoints, "
                   f"{report.timestamps} timestamps")
        return
    first = report.first()
    click.echo(f"ledger DAMAGED: first damaged entry: {first.message}", err=True)
    for d in report.damages[:50]:
        click.echo(f"  - {d.message}", err=True)
    sys.exit(1)


@ledger_cli.command("adopt")
def ledger_adopt() -> None:
    """Ledger the present state of every officer, token, deadline and calendar row that has no
    ledgered event yet (once, after upgrading a database from before they were ledgered)."""
    with container().uow() as uow:
        ledger.acting(uow.session, "cli:ledger adopt")
        counts = ledger.adopt_unledgered(uow.session)
    for table, n in counts.items():
        click.echo(f"{table}: {n} rows adopted")


@ledger_cli.command("stamp")
@click.option("--limit", default=100, show_default=True)
def ledger_stamp(limit: int) -> None:
    """Fetch the RFC 3161 timestamps still pending for signed checkpoints (TSA_URL)."""
    from core.ledger.timestamps import stamp_pending

    c = container()
    out = stamp_pending(c.uow, c.settings, limit=limit)
    click.echo(f"{out['stamped']} stamped, {out['failed']} failed (retried later)")
    if out["failed"]:
        sys.exit(1)


@ledger_cli.command("checkpoint")
def ledger_checkpoint() -> None:
    """Sign a checkpoint of the current log now."""
    with container().uow() as uow:
        cp = ledger.make_checkpoint(uow.session, uow.signer, reason="cli")
        click.echo(json.dumps(ledger.checkpoint_json(cp, uow.signer)))


@integrity.command("check")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def integrity_check(quiet: bool) -> None:
    """Re-hash every recorded blob (evidence, signature images, witnesses' signatures) against
    its SHA-256; exit 1 listing mismatches."""
    c = container()
    with c.uow() as uow:
        hashes = integrity_service.recorded_hashes(uow.session)
    with click.progressbar(length=len(hashes), label="re-hashing evidence",
                           file=sys.stderr, hidden=quiet) as bar:
        bad = integrity_service.check(c.blobs, hashes, progress=lambda _sha: bar.update(1))
    for m in bad:
        click.echo(f"MISMATCH {m.sha256}: {m.actual}", err=True)
    click.echo(f"{len(hashes)} blobs checked, {len(bad)} mismatches")
    if bad:
        sys.exit(1)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to the configured database."""
    from core.platform.migrate import upgrade

    upgrade(container().engine, revision)
    click.echo(f"database at {revision}")


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    from .archive_cli import dossier_cli, metrics_cli
    from .calendar_cli import calendar_cli

    for group in (demo, officers, ledger_cli, integrity, db_cli, calendar_cli, dossier_cli,
                  metrics_cli):
        app.cli.add_command(group)

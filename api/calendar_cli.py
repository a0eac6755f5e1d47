"""`flask calendar ...`: enter a new year's State Council holiday notice before the package
knows it, and see what the calendar says about a year."""

from __future__ import annotations

import getpass
import json

import click
from flask.cli import AppGroup

from core.kernel.errors import DomainError
from core.rules import calendar_store

from .auth import container
from .cli_lang import refused

calendar_cli = AppGroup("calendar", help="The working-day calendar (holidays and 调休).")


def _who() -> str:
    """CLI changes are recorded as made by the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli:unknown"


def _override(day: str, working: bool, note: str) -> None:
    try:
        with container().uow() as uow:
            row = calendar_store.add_override(uow.session, _who(), day, working, note,
                                              channel="cli")
            out = calendar_store.override_json(row)
    except DomainError as exc:
        raise refused(exc) from None
    kind = "working day (调休)" if working else "holiday"
    click.echo(f"{out['date']} recorded as a {kind}: {out['note']} (by {out['created_by']})")


@calendar_cli.command("add-holiday")
@click.argument("day", metavar="DATE")
@click.option("--note", required=True, help="The holiday and the notice, e.g. 国庆节.")
def add_holiday(day: str, note: str) -> None:
    """Record DATE (YYYY-MM-DD) as a statutory holiday (rest day)."""
    _override(day, False, note)


@calendar_cli.command("add-workday")
@click.argument("day", metavar="DATE")
@click.option("--note", required=True, help="Why it is worked, e.g. 国庆节调休上班.")
def add_workday(day: str, note: str) -> None:
    """Record DATE (YYYY-MM-DD) as a 调休 make-up working day."""
    _override(day, True, note)


@calendar_cli.command("declare-year")
@click.argument("year", type=int)
@click.option("--source", required=True,
              help='The notice, e.g. "国务院办公厅关于2027年部分节假日安排的通知".')
@click.option("--force", is_flag=True,
              help="Declare even though no holiday of YEAR has been entered.")
def declare_year(year: int, source: str, force: bool) -> None:
    """Declare YEAR's holiday notice fully entered (after add-holiday/add-workday): its
    deadline warnings stop. Refused while YEAR has no entries unless --force."""
    try:
        with container().uow() as uow:
            row = calendar_store.declare_year(uow.session, _who(), year, source, channel="cli",
                                              force=force)
            click.echo(f"{row.year} declared complete: {row.source}")
    except DomainError as exc:
        raise refused(exc) from None


@calendar_cli.command("show")
@click.argument("year", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(year: int, as_json: bool) -> None:
    """Show YEAR: where its data comes from, rest weekdays, worked weekends, overrides."""
    try:
        with container().uow() as uow:
            report = calendar_store.year_report(uow.session, year)
    except DomainError as exc:
        raise refused(exc) from None
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    source = {"package": "chinese_calendar", "declared": report["declared_source"],
              "partial": "overrides only, not declared", "unknown": "no data"}[report["status"]]
    click.echo(f"{year}: {report['status']} ({source})")
    if report["warning"]:
        click.echo(f"WARNING: {report['warning']}")
    click.echo("rest weekdays:")
    for d in report["rest_weekdays"]:
        click.echo(f"  {d['date']}  {d['note']}")
    click.echo("working weekend days:")
    for d in report["working_weekends"]:
        click.echo(f"  {d['date']}  {d['note']}")
    if report["overrides"]:
        click.echo("overrides (latest per day wins):")
        for o in report["overrides"]:
            kind = "working" if o["working"] else "holiday"
            click.echo(f"  {o['date']}  {kind:<8} {o['note']}  by {o['created_by']}")

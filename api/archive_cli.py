"""`flask dossier build|verify` and `flask metrics report` (A32.1, A36.1)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from core.archive import builds
from core.dossier.verify import verify_bag
from core.kernel.errors import DomainError
from core.metrics import compliance

from .auth import container
from .cli_lang import lang_option, refused

dossier_cli = AppGroup("dossier", help="The case file (案卷): build and verify.")
metrics_cli = AppGroup("metrics", help="Compliance metrics (A36.1).")
PHASES = {"evidence": "证据原件 evidence", "documents": "文书页面 documents",
          "proofs": "账本证明 proofs", "seal": "封包 seal"}


@dossier_cli.command("build")
@click.argument("case_number")
@click.option("--officer", "officer_id", default=None, help="Compiled in this officer's name.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the bag here.")
@lang_option
def dossier_build(case_number: str, officer_id: str | None, out: Path | None,
                  lang: str | None) -> None:
    """Build the case file of CASE_NUMBER now, with a progress bar (A32.1); a refusal is
    printed in Chinese, or English with --lang en (or QC_LANG=en)."""
    c = container()
    try:
        with c.uow() as uow:
            job_id = builds.operator_job(uow, case_number, officer_id).id
        bars: dict[str, object] = {}

        def progress(phase: str, done: int, total: int) -> None:
            bar = bars.get(phase)
            if bar is None:
                bar = bars[phase] = click.progressbar(length=max(total, 1),
                                                      label=PHASES.get(phase, phase),
                                                      file=sys.stderr)
                bar.__enter__()
            bar.update(done - bar.pos)
            if done >= total:
                bar.render_finish()

        job = builds.run_build(c, job_id, progress=progress)
    except DomainError as exc:
        raise refused(exc, lang) from None
    with c.uow() as uow:
        row = builds.operator_bag(uow, job)
        sha, size, volume = row.bag_sha256, row.size, row.volume
    if out:
        with c.blobs.open(sha) as src, out.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    click.echo(f"案卷已生成 / dossier built: volume {volume}, {size} bytes, sha256 {sha}"
               + (f", written to {out}" if out else ""))


@dossier_cli.command("verify")
@click.argument("bag", type=click.Path(exists=True, dir_okay=False))
def dossier_verify(bag: str) -> None:
    """Verify a case-file bag offline (the same check as the bag's own verify.py)."""
    report = verify_bag(bag)
    click.echo(report.text())
    sys.exit(0 if report.ok else 1)


@metrics_cli.command("report")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--group", type=click.Choice(compliance.GROUPS), default="department")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of PDF.")
def metrics_report(month: str, group: str, out: Path | None, as_csv: bool) -> None:
    """The month's compliance figures of every department as a PDF with charts (A36.1)."""
    try:
        q = compliance.MetricsQuery.month(month, group)
    except ValueError:
        raise click.ClickException("--month is YYYY-MM") from None
    with container().uow() as uow:
        data = compliance.figures(uow.session, q)
    out = out or Path(f"metrics-{month}.{'csv' if as_csv else 'pdf'}")
    if as_csv:
        out.write_text(compliance.to_csv(data), encoding="utf-8")
    else:
        out.write_bytes(compliance.report_pdf(data))
    click.echo(f"{out} ({len(data['groups'])} groups)")

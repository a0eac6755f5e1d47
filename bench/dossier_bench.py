"""Case-file figures (issue 11): building the bag of a case with 200 records and 1 GB of
evidence — peak memory above idle, build time against writing the same files into an
uncompressed zip in the same run, and the time the offline verifier takes on that bag.

The record and evidence sheets are pre-rendered as production does it: each record (with its
signatures and approval) and each evidence item is committed in its own transaction, and the
sheet job (core.dossier.prerender, what the in-process worker or the rq media queue runs after
such a commit) runs after each one; those jobs are timed apart ("prerender jobs") and the build
is then timed as before, stamping the cached sheets.

    .venv/bin/python bench/dossier_bench.py [--records 200] [--evidence-mb 1024]
                                            [--evidence-items 40] [--db sqlite|postgres]

Every timed step starts after os.sync() (no step pays for the write-back of the seeding or of
the step before); the build is timed again after the two plain zips, and both are reported.

Memory is the process's resident set (VmHWM after resetting it through
/proc/self/clear_refs), so C allocations (Pango, HarfBuzz, zlib) count too.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402
from scratch import make_db  # noqa: E402 - bench/ is on sys.path as the script's folder

from core import ledger  # noqa: E402
from core.archive.builds import build_volume  # noqa: E402
from core.bootstrap import bootstrap  # noqa: E402
from core.cases.models import Approval, Case, Evidence, Party, Record, Signature  # noqa: E402
from core.dossier import build_bag, load_case_file, seal_log  # noqa: E402
from core.dossier.pdf import PdfRenderer  # noqa: E402
from core.dossier.prerender import cache_of, prerender_case  # noqa: E402
from core.dossier.verify import verify_bag  # noqa: E402
from core.kernel.clock import utcnow  # noqa: E402
from core.kernel.ids import new_id  # noqa: E402
from core.kernel.settings import Settings  # noqa: E402
from core.people.officers import add_officer, ensure_department  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402
from core.rules.catalogue import CATALOGUE  # noqa: E402

MB = 1024 * 1024
TYPES = [t for t in CATALOGUE if not t.system_only][:24]
DEPARTMENT = "岳阳市住房和城乡建设局（基准）"


def rss_kb(field: str = "VmRSS") -> int:
    """A line of /proc/self/status in kB (VmRSS now, VmHWM the peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def png() -> bytes:
    """A signature image."""
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 20, 20)).save(out, format="PNG")
    return out.getvalue()


def seed_case(c, n_records: int, evidence_bytes: int, n_items: int,
              after_commit=lambda case_id: None) -> str:
    """A case with n records (fields, two signatures, an approval each) and evidence blobs,
    each record and each item committed on its own, ``after_commit`` called after each."""
    with c.uow() as uow:
        s = uow.session
        dept = ensure_department(s, "BENCH", DEPARTMENT)
        a = add_officer(s, dept, "张伟", ["officer"], "湘执430600001")
        b = add_officer(s, dept, "李娜", ["officer", "supervisor"], "湘执430600002")
        now = utcnow() - timedelta(days=60)
        party = Party(id=new_id(), department_id=dept.id, kind="organisation",
                      name="岳阳某建设有限公司", created_at=now, created_by=a.id)
        s.add(party)
        ledger.append(s, "party", party)
        case = Case(id=new_id(), department_id=dept.id, number="BENCH-2026-00001", year=2026,
                    serial=1, kind="penalty", initiation="ex_officio",
                    title="未取得施工许可擅自施工",
                    party_id=party.id, opened_by=a.id, opened_at=now, retention_years=25,
                    stage="investigation")
        s.add(case)
        ledger.append(s, "case", case, case_id=case.id)
        sig = uow.blobs.put_bytes(png())
        case_id, producer, records_at = case.id, a.id, now
        a_id, a_name, b_id, b_name = a.id, a.name, b.id, b.name
    for i in range(n_records):
        with c.uow() as uow:
            s = uow.session
            rtype = TYPES[i % len(TYPES)]
            at = now + timedelta(hours=i)
            fields = {f.name: (True if f.type == "bool" else [f"{f.label_zh}第{i}项", "附件"]
                               if f.type == "list" else at.isoformat() if f.type == "datetime"
                               else at.date().isoformat() if f.type == "date" else 3
                               if f.type == "int" else f.choices[0] if f.choices else
                               f"{f.label_zh}：岳阳市岳阳楼区某路{i}号，当事人周建国在场，"
                               "执法人员出示证件并告知权利义务。")
                      for f in rtype.fields}
            rec = Record(id=new_id(), case_id=case_id, type=rtype.name, stage=rtype.stage,
                         fields=fields, officers=[a_id, b_id], occurred_at=at, created_at=at,
                         created_by=a_id)
            s.add(rec)
            ledger.append(s, "record", rec, case_id=case_id)
            for o_id, o_name in ((a_id, a_name), (b_id, b_name)):
                sg = Signature(id=new_id(), record_id=rec.id, case_id=case_id, role="officer",
                               signer_name=o_name, signer_officer_id=o_id, method="signature",
                               image_sha256=sig.sha256, signed_at=at, created_by=a_id,
                               created_at=at)
                s.add(sg)
                ledger.append(s, "signature", sg, case_id=case_id)
            ap = Approval(id=new_id(), record_id=rec.id, case_id=case_id, step="unit",
                          decision="approve", opinion="同意", officer_id=b_id, at=at)
            s.add(ap)
            ledger.append(s, "approval", ap, case_id=case_id)
        after_commit(case_id)
    per_item = evidence_bytes // n_items
    block = os.urandom(MB)
    for j in range(n_items):
        incoming = c.blobs.incoming()
        written = 0
        prefix = f"item {j} ".encode()
        while written < per_item:
            chunk = (prefix + block)[: min(MB, per_item - written)]
            incoming.write(chunk)
            written += len(chunk)
        blob = incoming.commit()
        with c.uow() as uow:
            at = records_at + timedelta(hours=j * n_records / n_items, minutes=5)
            ev = Evidence(id=new_id(), case_id=case_id, record_id=None, sha256=blob.sha256,
                          size=blob.size, media_type="video/mp4", filename=f"VID_{j:04d}.mp4",
                          proves="现场执法全过程", method="recorder", producer_id=producer,
                          captured_at=at, meta={"make": "DSJ", "model": "执法记录仪"},
                          checks=[{"name": "type", "status": "pass", "detail": "video/mp4"}],
                          assurance="verified", created_at=at)
            uow.session.add(ev)
            ledger.append(uow.session, "evidence", ev, case_id=case_id)
        after_commit(case_id)
    return case_id


def baseline_zip(c, bag: Path, out: Path, scratch: Path) -> float:
    """Seconds to write the bag's files (originals from the blob store, the rest as files on
    disk) into a plain uncompressed zip."""
    if scratch.exists():
        shutil.rmtree(scratch)
    originals = []
    with zipfile.ZipFile(bag) as zf:
        for info in zf.infolist():
            if "/data/evidence/" in info.filename and not info.filename.endswith(".json"):
                originals.append(info.filename)
            else:
                zf.extract(info, scratch)
    shas = {}
    with zipfile.ZipFile(bag) as zf:
        man = zf.read(next(n for n in zf.namelist() if n.endswith("/manifest-sha256.txt")))
    for line in man.decode().splitlines():
        sha, path = line.split("  ", 1)
        shas[path] = sha
    others = [p for p in scratch.rglob("*") if p.is_file()]
    t0 = time.perf_counter()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name in originals:
            zf.write(c.blobs.local_path(shas[name.split("/", 1)[1]]), name)
        for p in others:
            zf.write(p, str(p.relative_to(scratch)))
    dt = time.perf_counter() - t0
    out.unlink()
    return dt


def main() -> None:
    """Seed, build, compare, verify; print a table and a JSON line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--evidence-mb", type=int, default=1024)
    ap.add_argument("--evidence-items", type=int, default=40)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="qc-dossier-bench-"))
    url, drop = make_db(args.db, tmp)
    try:
        c = bootstrap(Settings(database_url=url, instance_path=tmp / "instance",
                               storage_url=f"file://{tmp / 'blobs'}"))
        upgrade(c.engine)
        # The sheet job after each commit, as the worker runs it (core.dossier.prerender).
        cache = cache_of(c)
        renderer = PdfRenderer(author=DEPARTMENT)  # the app holds one; its fonts load lazily
        jobs: list[float] = []

        def sheet_job(case_id: str) -> None:
            t = time.perf_counter()
            prerender_case(c, case_id, cache=cache, renderer=renderer)
            jobs.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        case_id = seed_case(c, args.records, args.evidence_mb * MB, args.evidence_items,
                            after_commit=sheet_job)
        print(f"seeded {args.records} records and {args.evidence_mb} MB of evidence in "
              f"{time.perf_counter() - t0:.1f} s, of which {len(jobs)} prerender jobs "
              f"{sum(jobs):.1f} s ({cache.rendered} sheets laid out)", flush=True)
        rendered_by_jobs = cache.rendered

        def timed_build(bag: Path) -> tuple[float, float, float, dict[str, list[float]],
                                             object]:
            """One build from sealing the log to the closed zip: seconds in all, of which
            loading; CPU seconds; each progress phase's first and last report (seconds
            from the start); the result."""
            spans: dict[str, list[float]] = {}

            def progress(phase: str, done: int, total: int) -> None:
                at = time.perf_counter() - t0
                spans.setdefault(phase, [at, at])[1] = at

            cpu0 = time.process_time()
            t0 = time.perf_counter()
            with c.uow() as uow:
                seal_log(uow.session, uow.signer)
            with c.uow() as uow:
                cf = load_case_file(uow.session, case_id, uow.signer)
            t_load = time.perf_counter() - t0
            result = build_bag(cf, c.blobs, bag, c.signer, compiled_by="张伟",
                               checked_by="李娜", progress=progress, renderer=renderer,
                               sheets=cache)
            return (time.perf_counter() - t0, t_load, time.process_time() - cpu0, spans,
                    result)

        # Every timed step starts with no dirty pages queued: the seeding's gigabyte (or the
        # step before's) is written back before, not during, the step (bench/intake_bench.py
        # does the same). Without it the build, run first, paid for the seeding's write-back.
        bag = tmp / "bag.zip"
        os.sync()
        idle = rss_kb()
        reset_peak()
        t_build, t_load, cpu_build, phases, result = timed_build(bag)
        peak = rss_kb("VmHWM")
        cpu0 = time.process_time()
        os.sync()
        base1 = baseline_zip(c, bag, tmp / "base.zip", tmp / "extracted")
        os.sync()
        base2 = baseline_zip(c, bag, tmp / "base.zip", tmp / "extracted")
        cpu_base = (time.process_time() - cpu0) / 2  # includes the untimed extraction
        baseline = (base1 + base2) / 2
        # The same build again after the baselines (the order evened out): both reported.
        os.sync()
        t_build2, _l, _c, _p, _r = timed_build(tmp / "bag2.zip")
        (tmp / "bag2.zip").unlink()
        t0 = time.perf_counter()
        report = verify_bag(str(bag))
        t_verify = time.perf_counter() - t0
        assert report.ok, report.text()
        # Phases as reported (first and last report, seconds from the start): "documents"
        # places the cached sheets, then reports again when the parts are stamped and the
        # cover, catalogue and 备考表 added; "evidence" is the copy of the originals on its
        # own thread, beside the stamping, and reported from the building thread.
        render = phases["documents"][1] - phases["documents"][0]
        copying = phases["evidence"][1] - phases["evidence"][0]
        breakdown = {k: [round(a, 2), round(b, 2)] for k, (a, b) in phases.items()}
        out = {
            "records": args.records, "evidence_mb": args.evidence_mb,
            "evidence_items": args.evidence_items, "documents": result.documents,
            "pages": result.pages, "bag_mb": round(bag.stat().st_size / MB, 1),
            "pdf_mb": round(sum(i.file_size for i in zipfile.ZipFile(bag).infolist()
                                if i.filename.endswith(".pdf")) / MB, 1),
            "idle_rss_mb": round(idle / 1024, 1),
            "peak_above_idle_mb": round((peak - idle) / 1024, 1),
            "load_s": round(t_load, 2), "build_s": round(t_build, 2),
            "render_s": round(render, 2), "evidence_copy_s": round(copying, 2),
            "baseline_zip_s": round(baseline, 2), "baseline_runs_s": [round(base1, 2),
                                                                      round(base2, 2)],
            "ratio": round(t_build / baseline, 2),
            "build_again_s": round(t_build2, 2), "ratio_again": round(t_build2 / baseline, 2),
            "phases_s": breakdown,
            "verify_s": round(t_verify, 2), "build_cpu_s": round(cpu_build, 2),
            "baseline_cpu_s_upper_bound": round(cpu_base, 2),
            "load_average": os.getloadavg()[0],
            "prerender_jobs": len(jobs), "prerender_jobs_s": round(sum(jobs), 2),
            "prerender_job_mean_s": round(sum(jobs) / max(len(jobs), 1), 3),
            "prerender_job_max_s": round(max(jobs, default=0.0), 3),
            "sheets_laid_out_by_jobs": rendered_by_jobs,
            "sheets_laid_out_by_build": cache.rendered - rendered_by_jobs,
        }
        # The service path a user runs (core.archive.builds: the job, the API, the CLI): the
        # same build plus hashing the zip and adopting it into the blob store, ledgered.
        reset_peak()
        t0 = time.perf_counter()
        with c.uow() as uow:
            officer_id = uow.session.get(Case, case_id).opened_by
        cached_files = len(list(cache.root.rglob("*.pdf")))
        build_volume(c, case_id, officer_id)
        t_service = time.perf_counter() - t0
        # The service build uses the same cache (core.dossier.prerender.cache_of): no sheet
        # of its own laid out.
        out["service_sheets_laid_out"] = len(list(cache.root.rglob("*.pdf"))) - cached_files
        out["service_build_s"] = round(t_service, 2)
        out["service_ratio"] = round(t_service / baseline, 2)
        out["service_peak_above_idle_mb"] = round((rss_kb("VmHWM") - idle) / 1024, 1)
        rows = [("documents / pages", f"{result.documents} / {result.pages}"),
                ("bag size", f"{out['bag_mb']} MB (PDFs {out['pdf_mb']} MB)"),
                ("idle RSS", f"{out['idle_rss_mb']} MB"),
                ("peak RSS above idle", f"{out['peak_above_idle_mb']} MB (target < 150)"),
                ("load (DB reads, proofs)", f"{t_load:.2f} s"),
                ("build, total", f"{t_build:.2f} s"),
                *((f"  {k} (from-to)", f"{a:.2f}-{b:.2f} s") for k, (a, b) in breakdown.items()),
                ("  documents (span)", f"{render:.2f} s (overlaps the copy)"),
                ("  copying originals (span)", f"{copying:.2f} s"),
                ("plain uncompressed zip", f"{baseline:.2f} s ({base1:.2f}, {base2:.2f})"),
                ("ratio build / zip", f"{out['ratio']} (target <= 2)"),
                ("build again, after the zips", f"{t_build2:.2f} s, ratio {out['ratio_again']}"),
                ("verify (offline verifier)", f"{t_verify:.2f} s"),
                ("service build (job/CLI)", f"{t_service:.2f} s, ratio {out['service_ratio']}, "
                                            f"peak above idle "
                                            f"{out['service_peak_above_idle_mb']} MB, "
                                            f"sheets laid out "
                                            f"{out['service_sheets_laid_out']}"),
                ("build CPU time", f"{cpu_build:.2f} s"),
                ("prerender jobs (apart)", f"{len(jobs)} jobs, {sum(jobs):.2f} s in all, mean "
                                           f"{out['prerender_job_mean_s']} s, max "
                                           f"{out['prerender_job_max_s']} s; sheets laid out "
                                           f"by jobs {rendered_by_jobs}, by the build "
                                           f"{out['sheets_laid_out_by_build']}"),
                ("machine load average", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")]
        for k, v in rows:
            print(f"{k:<28} {v}")
        print(json.dumps(out))
    finally:
        drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

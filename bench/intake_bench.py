"""Benchmark evidence intake through the whole API path, served by a real server process.

1. Photos per second for 4 MB JPEGs uploaded as multipart (one client, then several at once),
   against plain copy + SHA-256 (+ fsync, as the store does) of the same bytes in the same run,
   and the floor: the same uploads to a bare app on the same server (bench/intake_floor_app.py).
2. Peak memory of the server process while a 1 GB video arrives, through multipart and
   through tus: VmHWM from /proc/<pid>/status (reset between phases through clear_refs),
   minus the idle RSS after a warm-up upload. Target: under 100 MB above idle.

The server is the Procfile's (gunicorn, one worker, threads) on 127.0.0.1 with embedded
SQLite and a blob folder in a temporary directory; ``--server werkzeug`` uses werkzeug's
threaded server instead. Metadata time per file is bench/capture_metadata_bench.py's.

    .venv/bin/python bench/intake_bench.py [--photos 24] [--clients 4] [--video-mb 1024]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.capture import media  # noqa: E402

CHUNK = 1 << 20
SITE_GCJ = (29.3573, 113.1290)  # the case site as Amap gives it
SITE_WGS = (29.359847, 113.123030)  # the same place in WGS-84, as phones write it


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path, port: int, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(INSTANCE_PATH=str(tmp / "instance"),
               DATABASE_URL=database_url or f"sqlite:///{tmp}/qc.db",
               STORAGE_URL=f"file://{tmp}/blobs", PORT=str(port), PYTHONPATH=str(ROOT),
               MAX_UPLOAD_BYTES=str(4 << 30))
    for name in ("REDIS_URL", "TELEGRAM_TOKEN", "APP_ENV"):
        env.pop(name, None)
    return env


def _prepare(env: dict[str, str]) -> dict:
    """Migrate the database and seed the demo people (as `make run` and `flask demo seed`)."""
    code = ("import json; from core.bootstrap import bootstrap; "
            "from core.platform.migrate import upgrade;"
            "from core.people.officers import demo_seed; c = bootstrap(); upgrade(c.engine);"
            "u = c.uow().__enter__(); out = demo_seed(u.session); u.session.commit();"
            "print(json.dumps(out))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _start(env: dict[str, str], port: int, kind: str, workers: int = 1,
           floor: bool = False) -> tuple[subprocess.Popen, int]:
    """Start the server (the API, or with ``floor`` bench/intake_floor_app.py); return it and
    the pid of the process that serves requests."""
    if kind == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "16",
                "--timeout", "600", "--bind", f"127.0.0.1:{port}",
                "bench.intake_floor_app:app" if floor else "api.wsgi:app"]
    else:
        app = "__import__('bench.intake_floor_app').intake_floor_app.app" if floor \
            else "__import__('api').create_app()"
        argv = [sys.executable, "-c",
                "from werkzeug.serving import run_simple; "
                f"run_simple('127.0.0.1', {port}, {app}, threaded=True)"]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("the server did not start: " + proc.stderr.read().decode()[-2000:])
    pid = proc.pid
    if kind == "gunicorn":  # requests are served by the worker, a child of the master
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        pid = int(children[0])
    return proc, pid


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def _tree_cpu_s(root: int) -> dict[str, float]:
    """CPU seconds (user + system) of the processes under ``root`` by kind: the web
    process(es) and the parser workers (bwrap, setpriv and the pool worker)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, rest = (entry / "stat").read_text().rpartition(")")
            fields = rest.split()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
        names[pid] = "parser" if b"capture.pool_worker" in cmd or b"bwrap" in cmd else "web"
    out = {"web": 0.0, "parser": 0.0}
    frontier = {root}
    while frontier:
        for pid in frontier:
            out[names.get(pid, "web")] += ticks.get(pid, 0) / os.sysconf("SC_CLK_TCK")
        frontier = {c for c, parent in parents.items() if parent in frontier}
    return out


def _reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5); False where not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- requests ---------------------------------------------------------------------------------


class Api:
    """A tiny HTTP client over http.client that streams bodies from files."""

    def __init__(self, port: int, token: str):
        self.port, self.auth = port, {"Authorization": f"Bearer {token}"}

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)

    def json(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """A JSON request."""
        conn = self._conn()
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data,
                     headers={**self.auth, "Content-Type": "application/json"})
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        return r.status, json.loads(raw) if raw else {}

    def multipart(self, case_id: str, path: Path, mime: str, fields: dict[str, str]
                  ) -> tuple[int, dict]:
        """POST /cases/{id}/evidence with the file streamed from disk in 1 MB pieces."""
        boundary = uuid.uuid4().hex
        head = b"".join(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            .encode() for k, v in fields.items())
        head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                 f"filename=\"{path.name}\"\r\nContent-Type: {mime}\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = path.stat().st_size
        conn = self._conn()
        conn.putrequest("POST", f"/api/v1/cases/{case_id}/evidence")
        for k, v in {**self.auth, "Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Content-Length": str(len(head) + size + len(tail))}.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(head)
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                conn.send(chunk)
        conn.send(tail)
        r = conn.getresponse()
        body = json.loads(r.read())
        conn.close()
        return r.status, body

    def tus(self, case_id: str, path: Path, mime: str, fields: dict[str, str],
            pieces: int) -> tuple[int, dict]:
        """A tus upload in ``pieces`` PATCHes, then GET of the intake answer."""
        size = path.stat().st_size
        meta = {"case_id": case_id, "filename": path.name, "filetype": mime, **fields}
        header = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
        conn = self._conn()
        conn.request("POST", "/api/v1/uploads", headers={
            **self.auth, "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
            "Upload-Metadata": header})
        r = conn.getresponse()
        r.read()
        location = r.getheader("Location")
        target = "/" + location.split("/", 3)[3]
        offset, step = 0, -(-size // pieces)
        with open(path, "rb") as fh:
            while offset < size:
                n = min(step, size - offset)
                conn.putrequest("PATCH", target)
                for k, v in {**self.auth, "Tus-Resumable": "1.0.0",
                             "Content-Type": "application/offset+octet-stream",
                             "Upload-Offset": str(offset), "Content-Length": str(n)}.items():
                    conn.putheader(k, v)
                conn.endheaders()
                left = n
                while left:
                    chunk = fh.read(min(CHUNK, left))
                    conn.send(chunk)
                    left -= len(chunk)
                r = conn.getresponse()
                r.read()
                if r.status != 204:
                    raise RuntimeError(f"PATCH at {offset} answered {r.status}")
                offset = int(r.getheader("Upload-Offset"))
        conn.request("GET", target, headers=self.auth)
        r = conn.getresponse()
        body = json.loads(r.read())
        conn.close()
        return r.status, body


# --- files ------------------------------------------------------------------------------------


def _photos(directory: Path, n: int, target: int = 4 << 20) -> list[Path]:
    """``n`` distinct JPEGs of about 4 MB with EXIF time and GPS (noise compresses poorly)."""
    from PIL import Image

    rng = random.Random(7)
    noise = Image.frombytes("RGB", (2000, 1500), rng.randbytes(2000 * 1500 * 3))
    out = []
    for i in range(n):
        taken = (datetime.now(UTC) - timedelta(minutes=i)).astimezone()
        z = taken.strftime("%z")
        p = media.Photo(lat=SITE_WGS[0] + i * 1e-5, lon=SITE_WGS[1], width=2000, height=1500,
                        taken=taken.strftime("%Y:%m:%d %H:%M:%S"), offset=f"{z[:3]}:{z[3:]}",
                        make="Xiaomi", model="14")
        path = directory / f"IMG_{i:04d}.jpg"
        noise.save(path, "JPEG", quality=97, exif=media.exif_of(p))
        out.append(path)
    size = statistics.fmean(p.stat().st_size for p in out)
    if not 0.7 * target < size < 1.5 * target:
        print(f"note: photos are {size / 2**20:.1f} MB on average")
    return out


def _video(path: Path, size: int, salt: int) -> Path:
    """A sparse MP4 of ``size`` bytes: ftyp, one huge mdat, moov with time and location last."""
    small = media.movie_bytes(created=datetime.now(UTC) - timedelta(minutes=5 + salt),
                              duration_s=600.0,
                              udta=[media.xyz(f"{SITE_WGS[0]:+.4f}{SITE_WGS[1]:+.4f}/")])
    moov_at = small.index(b"moov") - 4
    ftyp = small[:small.index(b"mdat") - 4]
    mdat = size - len(ftyp) - (len(small) - moov_at)
    with open(path, "wb") as f:
        f.write(ftyp)
        f.write(mdat.to_bytes(4, "big") + b"mdat")
        f.seek(mdat - 8, 1)
        f.write(small[moov_at:])
    return path


def _copy_and_hash(paths: list[Path], out: Path, cpu: list | None = None) -> float:
    """Files per second of a plain copy + SHA-256 + fsync of each file (its CPU seconds per
    file appended to ``cpu``)."""
    os.sync()  # start with no dirty pages queued (the photos were just written), as the API
    start, cpu0 = time.perf_counter(), time.process_time()
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb") as src, open(out / p.name, "wb") as dst:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    if cpu is not None:
        cpu.append((time.process_time() - cpu0) / len(paths))
    return len(paths) / (time.perf_counter() - start)


class Sampler:
    """Samples a process's RSS every 20 ms (a cross-check of VmHWM)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _status(self.pid)["VmRSS"])
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _pool_metadata_ms(paths: list[Path]) -> float:
    """Median metadata time per photo through a warm parser pool (capture.pool)."""
    from capture.pool import ParserPool

    with ParserPool(1, 10_000) as pool:
        assert pool.warm_up()
        pool.extract(paths[0], "jpeg")
        times = []
        for _ in range(3):
            for p in paths:
                t0 = time.perf_counter()
                md = pool.extract(p, "jpeg")
                times.append(time.perf_counter() - t0)
                assert md.taken_at is not None, md.errors
    return statistics.median(times) * 1000


def _profile_start(out: str, pid: int) -> subprocess.Popen:
    """py-spy sampling the server's worker (idle threads too: fsync waits count)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    proc = subprocess.Popen([py_spy, "record", "--pid", str(pid), "--idle", "--rate", "200",
                             "--format", "raw", "--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)  # py-spy attaches
    return proc


def _profile_stop(proc: subprocess.Popen, out: str) -> dict[str, float]:
    """Stop py-spy; the share of request-thread samples spent under each marked step."""
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    # First match wins: the waits (fsync, SQLite COMMIT with synchronous=FULL) before the
    # steps that contain them.
    steps = {
        "fsync of the upload + blob folder": ("IncomingFile.finish", "_fsync_dir"),
        "SQLite COMMIT (WAL fsync)": ("do_commit",),
        "deadline events (A31.1)": ("handle_event (core/deadlines",),
        "ledger append": ("append (core/ledger",),
        "metadata (parser pool round trip)": ("sandboxed_extractor",),
        "multipart decode + hash + write": ("_read_multipart",),
        "token lookup (once per request)": ("current_actor",),
        "other record work (checks, rows)": ("record (core/evidence/intake.py",),
    }
    totals = dict.fromkeys(steps, 0)
    request = 0
    for line in Path(out).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "upload (api/evidence.py" not in stack:
            continue
        n = int(count)
        request += n
        for name, marks in steps.items():
            if any(m in stack for m in marks):
                totals[name] += n
                break
    shares = {k: round(v / request, 3) for k, v in totals.items()} if request else {}
    if request:
        shares["the rest of the request"] = round(1 - sum(totals.values()) / request, 3)
    return shares


def _floor(env: dict[str, str], tmp: Path, args, first: list[Path], second: list[Path],
           copies: Path, fields: dict[str, str]) -> dict[str, float]:
    """The same uploads against bench/intake_floor_app.py on the same kind of server (body read
    and parsed, hashed, written, fsynced; nothing else), each phase right after its own
    copy + SHA-256 + fsync baseline: the best ratio any upload route could reach here."""
    port = _free_port()
    folder = tmp / "floor"
    folder.mkdir()
    proc, _ = _start({**env, "FLOOR_DIR": str(folder)}, port, args.server, args.web_workers,
                     floor=True)
    try:
        api = Api(port, "none")
        base_1 = _copy_and_hash(first, copies)
        os.sync()
        start = time.perf_counter()
        assert all(api.multipart("floor", p, "image/jpeg", fields)[0] == 201 for p in first)
        one = len(first) / (time.perf_counter() - start)
        base_n = _copy_and_hash(second, copies)
        os.sync()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            codes = list(pool.map(lambda p: api.multipart("floor", p, "image/jpeg", fields)[0],
                                  second))
        many = len(second) / (time.perf_counter() - start)
        assert all(c == 201 for c in codes), codes
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"per_s_1_client": round(one, 2), "ratio_1_client": round(one / base_1, 3),
            f"per_s_{args.clients}_clients": round(many, 2),
            f"ratio_{args.clients}_clients": round(many / base_n, 3)}


def main() -> int:
    """Run both measurements and print a table and a JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--clients", type=int, default=4, help="concurrent uploads (second run)")
    ap.add_argument("--video-mb", type=int, default=1024)
    ap.add_argument("--tus-pieces", type=int, default=8)
    ap.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    ap.add_argument("--web-workers", type=int, default=1,
                    help="gunicorn worker processes (the Procfile runs 1; the memory and CPU "
                         "figures are of the first)")
    ap.add_argument("--database-url", metavar="URL",
                    help="an empty database to run against (e.g. postgresql+psycopg://"
                         "127.0.0.1/intake_bench, made with createdb); SQLite in the run's "
                         "temporary folder by default")
    ap.add_argument("--profile", metavar="FILE",
                    help="sample the server with py-spy during the one-client phase (raw "
                         "stacks to FILE) and print where the request time goes")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    port = _free_port()
    env = _env(tmp, port, args.database_url)
    seed = _prepare(env)
    token = next(u["token"] for u in seed["users"] if u["role"] == "officer")
    proc, pid = _start(env, port, args.server, args.web_workers)
    results: dict = {"server": args.server, "cpus": os.cpu_count(),
                     "web_workers": args.web_workers,
                     "database": (args.database_url or "sqlite").split(":", 1)[0]}
    try:
        api = Api(port, token)
        status, case = api.json("POST", "/api/v1/cases", {
            "kind": "penalty", "initiation": "ex_officio", "title": "基准测试",
            "party": {"name": "岳阳某公司", "kind": "organisation"},
            "site": {"lat": SITE_GCJ[0], "lon": SITE_GCJ[1], "datum": "gcj02"}})
        assert status == 201, case
        fields = {"proves": "现场状况", "method": "photo"}
        files = tmp / "files"
        files.mkdir()
        photos = _photos(files, args.photos + args.photos + 1)
        warm = api.multipart(case["id"], photos.pop(), "image/jpeg", fields)
        assert warm[0] == 201, warm

        # 1. photos per second, against copy + SHA-256 + fsync of the same bytes, measured
        # right before each API phase (the disk is shared: its fsync time drifts)
        copies = tmp / "copies"
        copies.mkdir()
        first, second = photos[:args.photos], photos[args.photos:]
        base_cpu: list[float] = []
        base_1 = _copy_and_hash(first, copies, base_cpu)
        profiler = _profile_start(args.profile, pid) if args.profile else None
        os.sync()
        cpu0, self_cpu0 = _tree_cpu_s(proc.pid), time.process_time()
        start = time.perf_counter()
        answers = [api.multipart(case["id"], p, "image/jpeg", fields) for p in first]
        sequential = len(first) / (time.perf_counter() - start)
        time.sleep(2)  # the previews of these photos are part of their cost
        cpu1, self_cpu1 = _tree_cpu_s(proc.pid), time.process_time()
        cpu_ms = {k: round((cpu1[k] - cpu0[k]) * 1000 / len(first), 1) for k in cpu1}
        cpu_ms["client"] = round((self_cpu1 - self_cpu0) * 1000 / len(first), 1)
        if profiler is not None:
            results["profile"] = _profile_stop(profiler, args.profile)
        assert all(s == 201 for s, _ in answers), answers[:2]
        base_n = _copy_and_hash(second, copies)
        os.sync()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            answers = list(pool.map(lambda p: api.multipart(case["id"], p, "image/jpeg",
                                                            fields), second))
        concurrent = len(second) / (time.perf_counter() - start)
        assert all(s == 201 for s, _ in answers), answers[:2]
        floor = _floor(env, tmp, args, first, second, copies, fields)
        mb = statistics.fmean(p.stat().st_size for p in first) / 2**20
        results["photos"] = {
            "n": len(first), "mean_mb": round(mb, 2),
            "copy_sha256_per_s": round(base_1, 1),
            f"copy_sha256_per_s_before_{args.clients}_clients": round(base_n, 1),
            "api_per_s_1_client": round(sequential, 2),
            f"api_per_s_{args.clients}_clients": round(concurrent, 2),
            "ratio_1_client": round(sequential / base_1, 3),
            f"ratio_{args.clients}_clients": round(concurrent / base_n, 3),
            "floor": floor,
            "pool_metadata_ms_median": round(_pool_metadata_ms(first), 2),
            "cpu_ms_per_photo_1_client": cpu_ms,
            "copy_sha256_cpu_ms_per_file": round(base_cpu[0] * 1000, 1),
            "assurance": answers[0][1]["assurance"]}
        time.sleep(3)  # let the preview thread finish the photos' thumbnails

        # 2. peak memory while a 1 GB video arrives
        size = args.video_mb << 20
        can_reset = _reset_peak(pid)
        idle = _status(pid)
        results["memory"] = {"idle_rss_mb": round(idle["VmRSS"] / 1024, 1),
                             "video_mb": args.video_mb, "hwm_reset": can_reset}
        for how in ("multipart", "tus"):
            video = _video(tmp / f"video-{how}.mp4", size, salt=len(how))
            _reset_peak(pid)
            before = _status(pid)["VmRSS"]
            t0 = time.perf_counter()
            with Sampler(pid) as sampler:
                if how == "multipart":
                    status, body = api.multipart(case["id"], video, "video/mp4",
                                                 {"proves": "施工过程", "method": "video"})
                else:
                    status, body = api.tus(case["id"], video, "video/mp4",
                                           {"proves": "施工过程", "method": "video"},
                                           args.tus_pieces)
            took = time.perf_counter() - t0
            assert status == 201 and body["size"] == size, (status, body)
            hwm = _status(pid)["VmHWM"]
            results["memory"][how] = {
                "seconds": round(took, 1), "mb_per_s": round(args.video_mb / took, 1),
                "peak_above_idle_mb": round((hwm - before) / 1024, 1),
                "sampled_peak_above_idle_mb": round((sampler.peak - before) / 1024, 1),
                "assurance": body["assurance"]}
            video.unlink()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    p = results["photos"]
    print(f"server: {args.server} ({args.web_workers} worker process(es)), "
          f"database {results['database']}, "
          f"{results['cpus']} CPUs")
    print(f"photos ({p['n']} x {p['mean_mb']} MB JPEG):")
    print(f"  copy + SHA-256 + fsync      {p['copy_sha256_per_s']:>8.1f} /s")
    print(f"  API, 1 client               {p['api_per_s_1_client']:>8.2f} /s  "
          f"(ratio {p['ratio_1_client']:.3f}, target >= 0.5)")
    print(f"  copy + SHA-256 + fsync      "
          f"{p[f'copy_sha256_per_s_before_{args.clients}_clients']:>8.1f} /s")
    print(f"  API, {args.clients} clients              "
          f"{p[f'api_per_s_{args.clients}_clients']:>8.2f} /s  "
          f"(ratio {p[f'ratio_{args.clients}_clients']:.3f}, target >= 0.7)")
    f = p["floor"]
    print(f"  floor (same server, bare app: body parsed, hashed, written, fsynced; nothing else)"
          f": 1 client {f['per_s_1_client']:.2f} /s (ratio {f['ratio_1_client']:.3f}), "
          f"{args.clients} clients {f[f'per_s_{args.clients}_clients']:.2f} /s (ratio "
          f"{f[f'ratio_{args.clients}_clients']:.3f})")
    c = p["cpu_ms_per_photo_1_client"]
    print(f"  CPU per photo (1 client): web {c['web']:.1f} ms, parser workers (metadata and "
          f"preview) {c['parser']:.1f} ms, client {c['client']:.1f} ms; copy + SHA-256 + "
          f"fsync {p['copy_sha256_cpu_ms_per_file']:.1f} ms per file")
    print(f"  metadata through the warm parser pool: median "
          f"{p['pool_metadata_ms_median']:.2f} ms per photo (target < 10)")
    if results.get("profile"):
        print("where one client's request time goes (py-spy, share of samples):")
        for k, v in results["profile"].items():
            print(f"  {k:<34} {v:>6.1%}")
    m = results["memory"]
    print(f"1 GB video (server idle RSS {m['idle_rss_mb']} MB):")
    for how in ("multipart", "tus"):
        r = m[how]
        print(f"  {how:<10} {r['seconds']:>6.1f} s  {r['mb_per_s']:>7.1f} MB/s  peak "
              f"{r['peak_above_idle_mb']:>6.1f} MB above idle (sampled "
              f"{r['sampled_peak_above_idle_mb']:.1f})")
    print(json.dumps({"bench": "intake", **results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What an anonymous request body costs the web process (issue 12, finding 1).

Starts the Procfile's web command (gunicorn, one worker, 64 threads) on embedded SQLite in a
temporary folder and sends, over raw sockets:

1. a 96 MB JSON body without a token to POST /api/v1/cases;
2. a 900 KB JSON body without a token (under the 1 MiB limit: refused before it is read);
3. a 2 GB Content-Length with a 1-byte body, without a token, to a JSON route and to the
   evidence upload route;
4. 64 such stalled uploads at once with a valid token (BODY_READ_TIMEOUT=5): every thread is
   back after the timeout and /healthz answers.

For each: the status, the seconds to answer, and the worker's peak memory (VmHWM, reset with
clear_refs before each probe) above its RSS before it.

    .venv/bin/python bench/body_limits_bench.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.body_probe import memory_kb, probe, reset_peak, served_by  # noqa: E402
from tests.support.s3_server import free_port  # noqa: E402

MB = 1024 * 1024


def main() -> None:
    """Run the probes and print one line each."""
    tmp = Path(tempfile.mkdtemp(prefix="qc-body-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "APP_ENV",
                                                           "TELEGRAM_TOKEN", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(tmp / "instance"), DATABASE_URL=f"sqlite:///{tmp}/qc.db",
               STORAGE_URL=f"file://{tmp}/blobs", PYTHONPATH=str(ROOT), BODY_READ_TIMEOUT="5")
    seed = ("import json; from core.bootstrap import bootstrap; "
            "from core.platform.migrate import upgrade; from core.people.officers import "
            "demo_seed; c = bootstrap(); upgrade(c.engine); u = c.uow().__enter__(); "
            "out = demo_seed(u.session); u.session.commit(); print(json.dumps(out))")
    people = json.loads(subprocess.run([sys.executable, "-c", seed], env=env, cwd=ROOT,
                                       capture_output=True, text=True, check=True
                                       ).stdout.strip().splitlines()[-1])
    token = people["users"][0]["token"]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "64",
         "--no-control-socket", "--bind", f"127.0.0.1:{port}", "api.wsgi:app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if probe(port, "/healthz", method="GET", declared=0, send=0, timeout=2).status:
                    break
            except OSError:  # not listening yet
                pass
            time.sleep(0.3)
        pid = served_by(server.pid)
        probe(port, "/api/v1/cases", declared=10, send=10)
        case = "0" * 32
        rows = [
            ("96 MB JSON, no token", "/api/v1/cases", 96 * MB, 96 * MB, {}, "application/json"),
            ("900 KB JSON, no token", "/api/v1/cases", 900 * 1024, 900 * 1024, {},
             "application/json"),
            ("2 GB declared, 1 byte, JSON route, no token", "/api/v1/cases", 2 * 10**9, 1, {},
             "application/json"),
            ("2 GB declared, 1 byte, upload route, no token", f"/api/v1/cases/{case}/evidence",
             2 * 10**9, 1, {}, "multipart/form-data; boundary=x"),
        ]
        for label, path, declared, send, headers, ctype in rows:
            reset_peak(pid)
            before = memory_kb(pid)["VmRSS"]
            answer = probe(port, path, declared=declared, send=send, headers=headers,
                           content_type=ctype)
            peak = memory_kb(pid)["VmHWM"]
            print(f"{label:<48} {answer.status}  {answer.seconds * 1000:8.1f} ms  "
                  f"peak +{(peak - before) / 1024:6.1f} MB  (client got {answer.sent} bytes out)")
        # 64 stalled uploads with a token: the whole thread pool, back after the timeout.
        seeded = subprocess.run(
            [sys.executable, "-c", "import json,sys; from core.bootstrap import bootstrap; "
             "from core.cases import lifecycle; from core.cases.commands import OpenCase; "
             "from core.people.access import officer_for_token; c = bootstrap();\n"
             "with c.uow() as u:\n a = officer_for_token(u.session, sys.argv[1])\n"
             " v = lifecycle.open_case(u, a, OpenCase.parse({'kind': 'penalty', "
             "'initiation': 'ex_officio', 'title': 'bench', 'party': {'name': 'x'}}))\n"
             " print(v.case.id if hasattr(v, 'case') else lifecycle.case_json(v)['id'])", token],
            env=env, cwd=ROOT, capture_output=True, text=True)
        case_id = seeded.stdout.strip().splitlines()[-1] if seeded.returncode == 0 else case
        start = time.monotonic()
        with ThreadPoolExecutor(64) as pool:
            answers = list(pool.map(lambda _i: probe(
                port, f"/api/v1/cases/{case_id}/evidence", declared=2 * 10**9, send=1,
                headers={"Authorization": f"Bearer {token}"},
                content_type="multipart/form-data; boundary=x"), range(64)))
        statuses = sorted({a.status for a in answers})
        slowest = max(a.seconds for a in answers)
        health = probe(port, "/healthz", method="GET", declared=0, send=0, timeout=10)
        print(f"{'64 stalled uploads with a token (timeout 5 s)':<48} {statuses}  slowest "
              f"{slowest:.1f} s, all back after {time.monotonic() - start:.1f} s; /healthz "
              f"{health.status} in {health.seconds * 1000:.1f} ms")
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()

"""A local RFC 3161 timestamp authority for tests: a CA and a TSA certificate made with
`openssl` in a temporary folder, and `openssl ts -reply` behind a tiny HTTP server on
127.0.0.1. Requests are bounded in size and time; the server stops with the fixture."""

from __future__ import annotations

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_QUERY = 16 * 1024

_TSA_CNF = """
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
# No "certs =" chain: the reply carries the signer certificate only (cert_req). OpenSSL writes
# a SET OF certificates unsorted, which rfc3161-client's strict DER parser refuses.
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5.6
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

_TSA_EXT = """
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def openssl_available() -> bool:
    """True when the openssl command exists."""
    return shutil.which("openssl") is not None


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class LocalTsa:
    """A CA, a TSA certificate and an HTTP timestamp service on 127.0.0.1."""

    def __init__(self, folder: Path, name: str = "Quancheng Test"):
        """Make the CA and the TSA's key and certificate in `folder`."""
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
        _run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
             "-subj", f"/CN={name} Root CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
        _run("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr",
             "-subj", f"/CN={name} TSA", cwd=folder)
        (folder / "tsa_ext.cnf").write_text(_TSA_EXT)
        _run("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.crt", "-days", "3650", "-extfile", "tsa_ext.cnf",
             cwd=folder)
        (folder / "tsaserial").write_text("01\n")
        (folder / "tsa.cnf").write_text(_TSA_CNF.format(dir=folder))
        self.ca_path = folder / "ca.crt"
        self.cert_path = folder / "tsa.crt"
        self.down = False  # answer 503 while True
        self.requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def reply(self, query: bytes) -> bytes:
        """`openssl ts -reply` for one query."""
        with self._lock:  # one serial file
            self.requests += 1
            q, r = self.dir / f"q{self.requests}.tsq", self.dir / f"r{self.requests}.tsr"
            q.write_bytes(query)
            _run("ts", "-reply", "-config", "tsa.cnf", "-queryfile", q.name, "-out", r.name,
                 cwd=self.dir)
            return r.read_bytes()

    def start(self) -> LocalTsa:
        """Serve on a free port of 127.0.0.1."""
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                if tsa.down or not 0 < length <= MAX_QUERY:
                    self.send_response(503 if tsa.down else 413)
                    self.end_headers()
                    return
                body = tsa.reply(self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.timeout = 10
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        """The service's URL."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/tsa"

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

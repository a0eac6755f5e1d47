"""The floor of an HTTP photo upload on this machine, for bench/intake_bench.py: a bare WSGI app
served the same way as the API (same server, threads and body reader) that reads the same
multipart body with api.multipart, hashes and writes the file, fsyncs it and answers with its
SHA-256. No authentication, database, parser, rename or ledger: no implementation of the upload
route can be faster than this on the same server, so its ratio to copy + SHA-256 + fsync is the
upper bound of the route's.

    gunicorn ... 'bench.intake_floor_app:app'   (FLOOR_DIR: where the files go)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from werkzeug.wrappers import Request, Response

from api import multipart


class _File:
    def __init__(self, folder: str):
        self.fd, self.path = tempfile.mkstemp(dir=folder, prefix="floor-")
        self.hash = hashlib.sha256()

    def write(self, piece) -> None:
        self.hash.update(piece)
        view = memoryview(piece)
        while view:
            view = view[os.write(self.fd, view):]


@Request.application
def app(request: Request) -> Response:
    """Read the form; the file part is hashed, written and fsynced like an upload's."""
    if request.method != "POST":
        return Response("{}", mimetype="application/json")  # the bench's readiness probe
    folder = os.environ.get("FLOOR_DIR") or tempfile.gettempdir()
    files: list[_File] = []
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1")

    def open_file(name, filename, headers) -> _File:
        files.append(_File(folder))
        return files[-1]

    multipart.read_form(request.stream, boundary, open_file=open_file, max_field=16 * 1024,
                        max_parts=32, field_too_long=ValueError)
    for f in files:
        os.fsync(f.fd)
        os.close(f.fd)
        os.unlink(f.path)
    return Response(json.dumps({"sha256": [f.hash.hexdigest() for f in files]}), status=201,
                    mimetype="application/json")

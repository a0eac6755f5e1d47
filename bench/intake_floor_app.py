"""The floor of an HTTP photo upload on this machine, for bench/intake_bench.py: a bare WSGI app
served the same way as the API (same server, threads and body reader) that reads the same
multipart body with Werkzeug's MultipartDecoder (as api/evidence.py does), hashes and writes
the file, fsyncs it and answers with its SHA-256. No authentication, database, parser, rename
or ledger: no implementation of the upload route can be faster than this on the same server,
so its ratio to copy + SHA-256 + fsync is the upper bound of the route's.

    gunicorn ... 'bench.intake_floor_app:app'   (FLOOR_DIR: where the files go)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from werkzeug.sansio.multipart import Data, Epilogue, File, MultipartDecoder, NeedData
from werkzeug.wrappers import Request, Response

CHUNK = 1024 * 1024


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
    decoder = MultipartDecoder(boundary, max_form_memory_size=4 * CHUNK, max_parts=32)
    current = None
    while True:
        chunk = request.stream.read(CHUNK)
        decoder.receive_data(chunk or None)
        event = decoder.next_event()
        while not isinstance(event, (NeedData, Epilogue)):
            if isinstance(event, File):
                current = _File(folder)
                files.append(current)
            elif isinstance(event, Data):
                if current is not None:
                    current.write(event.data)
            else:
                current = None  # a text field: its bytes are not kept
            event = decoder.next_event()
        if isinstance(event, Epilogue) or not chunk:
            break
    for f in files:
        os.fsync(f.fd)
        os.close(f.fd)
        os.unlink(f.path)
    return Response(json.dumps({"sha256": [f.hash.hexdigest() for f in files]}), status=201,
                    mimetype="application/json")

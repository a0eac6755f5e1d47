"""The case file as a BagIt bag (RFC 8493) in one zip, written as a stream (A32.1).

Layout (``<bag>/`` is the bag's folder inside the zip)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    manifest-signature.json    the ledger key's signature over manifest-sha256.txt
    verify.py  README.txt      the offline verifier and how to run it
    data/catalogue.json        卷内文件目录: every document, in time order, and its files
    data/case.json             the case, party and stage-change rows (as logged)
    data/documents/front.pdf   cover (案卷封面) and 卷内文件目录
    data/documents/part-NNN.pdf  the volume: every record and evidence sheet in time order,
                               page-numbered through, about PART_PAGES pages per file (each
                               sheet pre-rendered and cached, core.dossier.sheet_cache; its
                               page number and serial stamped on, core.dossier.stamp)
    data/documents/note.pdf    备考表
    data/records/<id>.json     each record with its approvals, signatures and refusals (as logged)
    data/evidence/<id>.<ext>   each evidence original, byte for byte; <id>.json its row
    data/signatures/<sha256>.<ext>  the signature images
    data/proofs/public_key.pem, checkpoints/<size>.json, entries/<seq>.json

Nothing is held whole in memory: originals are copied from the blob store in chunks while
they are hashed, each PDF is written as soon as it is rendered, and only the manifest lines
(path and hash) are kept until the end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.dossier import contents, pages
from core.dossier.loader import DossierError
from core.dossier.pdf import Layout, PdfRenderer
from core.dossier.sheet_cache import SheetCache
from core.dossier.snapshot import CaseFile, Leaf, RecordItem
from core.dossier.stamp import Placed, Stamper
from core.kernel.aside import Aside
from core.kernel.clock import utcnow

CHUNK = 1024 * 1024
VERIFIER = Path(__file__).with_name("verify.py")
FORMAT = "quancheng-dossier/1"
# Zip members above this size get ZIP64 headers up front (their size is known in advance).
ZIP64_FROM = 1 << 31

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phases "evidence" (bytes), "documents" (PDFs),
"proofs" (ledger entries), "seal" (tag files)."""


class Blobs(Protocol):
    """What the builder needs of the blob store: open an original by its hash."""

    def open(self, sha256: str) -> BinaryIO: ...


class Signer(Protocol):
    """What the builder needs of the ledger key: sign a note (core.ledger.CheckpointSigner)."""

    origin: str
    key_id: str

    def sign(self, note: str) -> bytes: ...


@dataclass(frozen=True)
class BuildResult:
    """What was built: where, how big, and the hash the service layer records and ledgers."""

    bag_name: str
    files: int
    payload_bytes: int
    manifest_sha256: str
    documents: int
    pages: int
    archival: bool
    pdf_variant: str


def bag_name(case_number: str) -> str:
    """The bag's folder name inside the zip (ASCII, from the case number)."""
    return "dossier-" + re.sub(r"[^A-Za-z0-9_-]", "_", case_number)


def manifest_note(origin: str, case_number: str, manifest_sha256: str) -> str:
    """The signed note over a bag's payload manifest; its first line is never a log origin."""
    return f"{origin} dossier manifest v1\n{case_number}\n{manifest_sha256}\n"


def build_bag(cf: CaseFile, blobs: Blobs, out: Path | BinaryIO, signer: Signer, *,
              compiled_by: str, checked_by: str = "", progress: Progress | None = None,
              renderer: PdfRenderer | None = None, now: datetime | None = None,
              sheets: SheetCache | None = None) -> BuildResult:
    """Write the case file's bag as one zip to ``out`` (a path or a writable binary stream);
    the record and evidence sheets come from ``sheets`` (laid out there when missing)."""
    if signer.key_id != cf.key_id:
        raise DossierError("the case file was loaded with another ledger key")
    now = now or utcnow()
    report = progress or (lambda phase, done, total: None)
    renderer = renderer or PdfRenderer(author=cf.department_name)
    name = bag_name(cf.number)
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        bag = _BagWriter(zf, name, now)
        lines = contents.entries(cf)
        cache = sheets or SheetCache()
        try:
            if renderer.archival:
                # The rows and proofs are made while the originals are copied.
                total_pages = _volume(bag, cf, blobs, lines, renderer, report, cache,
                                      compiled_by=compiled_by, checked_by=checked_by, now=now,
                                      meanwhile=lambda pages: _rows_and_proofs(
                                          bag, cf, lines, renderer, pages, report))
            else:  # the reportlab fallback numbers its pages as it draws them
                _originals(bag, cf, blobs, lines, report)
                images = _signature_images(bag, cf, blobs)
                total_pages = _documents_drawn(bag, cf, lines, images, renderer, report,
                                               compiled_by=compiled_by, checked_by=checked_by,
                                               now=now)
                _rows_and_proofs(bag, cf, lines, renderer, total_pages, report)
        finally:
            if sheets is None:
                cache.close()
        manifest_sha = _seal(bag, cf, signer, renderer, report)
    return BuildResult(name, len(bag.payload) + len(bag.tags) + 1, bag.payload_bytes,
                       manifest_sha, len(lines), total_pages, renderer.archival, renderer.variant)


class _BagWriter:
    """Adds members under the bag folder and remembers each one's SHA-256 for the manifests."""

    def __init__(self, zf: zipfile.ZipFile, name: str, now: datetime):
        self.zf, self.name = zf, name
        self.date_time = now.timetuple()[:6]
        self.payload: list[tuple[str, str]] = []
        self.tags: list[tuple[str, str]] = []
        self.payload_bytes = 0
        self.parts: list[str] = []
        self._held: list[tuple[zipfile.ZipInfo, bytes]] | None = None
        self._lock = threading.Lock()

    def _info(self, path: str, compress: bool, size: int | None = None) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.name}/{path}", self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o444 << 16  # read-only, like the originals in the blob store
        if size is not None:
            info.file_size = size
        return info

    def _remember(self, path: str, sha: str, size: int) -> None:
        with self._lock:  # members are added from two threads while the originals are copied
            self._note(path, sha, size)

    def _note(self, path: str, sha: str, size: int) -> None:
        if path.startswith("data/"):
            self.payload.append((path, sha))
            self.payload_bytes += size
        else:
            self.tags.append((path, sha))

    def hold(self) -> None:
        """Keep the small members added from now on (the zip is busy with a copy on another
        thread) until :meth:`release`."""
        self._held = []

    def release(self) -> None:
        """Write the members kept since :meth:`hold`, in the order they were added."""
        held, self._held = self._held, None
        for info, data in held or ():
            self.zf.writestr(info, data)

    def add(self, path: str, data: bytes, *, compress: bool = True) -> str:
        """A small member given whole (JSON, a rendered PDF, a tag file)."""
        if self._held is not None:
            self._held.append((self._info(path, compress), data))
        else:
            self.zf.writestr(self._info(path, compress), data)
        sha = hashlib.sha256(data).hexdigest()
        self._remember(path, sha, len(data))
        return sha

    def add_json(self, path: str, obj) -> str:
        """A JSON member, indented for people to read, keys sorted."""
        return self.add(path, json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1)
                        .encode() + b"\n")

    def copy(self, path: str, src: BinaryIO, size: int, on_chunk: Callable[[int], None],
             buffered: _Buffered | None = None) -> str:
        """Copy a stream in chunks, untouched and uncompressed, hashing as it goes (into one
        reused buffer when given one)."""
        h = hashlib.sha256()
        copied = 0
        with self.zf.open(self._info(path, False, size), "w",
                          force_zip64=size >= ZIP64_FROM) as dst:
            chunks = buffered.chunks(src, h) if buffered is not None else _chunks(src, h)
            for chunk in chunks:
                dst.write(chunk)
                copied += len(chunk)
                on_chunk(len(chunk))
        if copied != size:
            raise DossierError(f"{path}: the blob store gave {copied} bytes, {size} were logged")
        sha = h.hexdigest()
        self._remember(path, sha, size)
        return sha


def _chunks(src: BinaryIO, h) -> Iterator[bytes]:
    """A stream's chunks, each added to the hash ``h`` first."""
    while chunk := src.read(CHUNK):
        h.update(chunk)
        yield chunk


class _Buffered:
    """Reads a stream into one reused buffer, chunk after chunk, each added to the hash first
    (a chunk small enough to stay in the processor's cache while it is hashed, CRC'd and
    written)."""

    def __init__(self, size: int = CHUNK):
        self._view = memoryview(bytearray(size))

    def chunks(self, src: BinaryIO, h) -> Iterator[memoryview | bytes]:
        """The stream's chunks (a view of the buffer, valid until the next one)."""
        readinto = getattr(src, "readinto", None)
        if readinto is None:  # a stream that cannot read into a buffer
            yield from _chunks(src, h)
            return
        while n := readinto(self._view):
            chunk = self._view[:n]
            h.update(chunk)
            yield chunk


def _originals(bag: _BagWriter, cf: CaseFile, blobs: Blobs, lines: list[contents.Entry],
               report: Progress) -> None:
    """Every evidence original, byte for byte, checked against its logged hash on the way."""
    where = {e.id: f"data/{e.original}" for e in lines if e.kind == "evidence"}
    total = sum(e.size for e in cf.evidence)
    done = 0
    report("evidence", 0, total)

    def step(n: int) -> None:
        nonlocal done
        done += n
        report("evidence", done, total)

    buffered = _Buffered()
    for item in cf.evidence:
        try:
            src = blobs.open(item.sha256)
        except (FileNotFoundError, ValueError):
            raise DossierError(f"evidence {item.id}: original {item.sha256[:16]}… is missing "
                               "from the blob store") from None
        with src:
            sha = bag.copy(where[item.id], src, item.size, step, buffered)
        if sha != item.sha256:
            raise DossierError(f"evidence {item.id}: the stored original no longer matches its "
                               f"logged hash (now {sha[:16]}…); run `flask integrity check`")


def signature_images(blobs: Blobs, cf: CaseFile, *, strict: bool = True
                     ) -> dict[str, tuple[str, bytes]]:
    """The signature images the record sheets show, by hash: (media type, bytes), each checked
    against its hash. ``strict`` (the build) stops on a missing or changed image; otherwise
    (pre-rendering) it is left out and the build stops on it later with its own message."""
    out: dict[str, tuple[str, bytes]] = {}
    for r in cf.records:
        for s in r.signatures:
            sha = s.row.get("image_sha256")
            if not sha or sha in out:
                continue
            try:
                with blobs.open(sha) as fh:
                    data = fh.read()
            except (FileNotFoundError, ValueError):
                if not strict:
                    continue
                raise DossierError(f"signature {s.id}: image {sha[:16]}… is missing from the "
                                   "blob store") from None
            if hashlib.sha256(data).hexdigest() != sha:
                if not strict:
                    continue
                raise DossierError(f"signature {s.id}: image {sha[:16]}… was changed")
            out[sha] = ("image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png", data)
    return out


def _signature_images(bag: _BagWriter, cf: CaseFile, blobs: Blobs
                      ) -> dict[str, tuple[str, bytes]]:
    """The signature images (small), into the bag and kept for the record pages."""
    images = signature_images(blobs, cf)
    for sha, (media, data) in images.items():
        ext = ".jpg" if media == "image/jpeg" else ".png"
        bag.add(f"data/signatures/{sha}{ext}", data, compress=False)
    return images


def _volume(bag: _BagWriter, cf: CaseFile, blobs: Blobs, lines: list[contents.Entry],
            renderer: PdfRenderer, report: Progress, cache: SheetCache, *, compiled_by: str,
            checked_by: str, now: datetime, meanwhile: Callable[[int], None]) -> int:
    """Signature images; then, while the originals are copied on another thread, every record
    and evidence sheet taken from the cache of pre-rendered sheets (laid out now on a miss),
    which numbers every page, the sheets stamped into parts of about PART_PAGES pages, the
    cover, catalogue and 备考表 laid out, and the rest made (``meanwhile``, given the page
    count)."""
    images = _signature_images(bag, cf, blobs)
    # Reading, hashing and writing the originals leaves the interpreter free for the pages. A
    # zip takes one member at a time, so the copying thread writes every member until the end:
    # the originals, then each part (stamped here into a temporary file) and the rest (made
    # here, kept in memory: small) as they are handed over. The copy's progress is passed on
    # from this thread (the callback may write to the database).
    relay = _Relay()
    handed: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

    def write_all() -> None:
        _originals(bag, cf, blobs, lines, relay)
        while (write := handed.get()) is not None:
            write()

    copier = Aside(write_all, "dossier-copy")
    total = len(lines) + 2
    page = 1
    placed: list[tuple[contents.Entry, Placed]] = []
    parts = 0
    spooled: list[BinaryIO] = []
    try:
        bag.hold()  # small members: written by the copying thread, in this order
        for i, entry in enumerate(lines):
            entry.first_page = page
            cached = cache.sheet(pages.entry_sheet(cf, entry, images.get), renderer)
            entry.pages = cached.pages
            placed.append((entry, Placed(cached, page, entry.serial)))
            page += entry.pages
            report("documents", i + 1, total)
        relay.flush(report)
        stamper = Stamper(renderer, cf.number, cache)
        part: list[tuple[contents.Entry, Placed]] = []
        for n, item in enumerate(placed):
            part.append(item)
            if sum(e.pages for e, _p in part) >= PART_PAGES or n + 1 == len(placed):
                parts += 1
                fh = tempfile.TemporaryFile(prefix="qc-part-")  # noqa: SIM115 - closed below
                spooled.append(fh)
                handed.put(_stamp_part(bag, stamper, part, parts, fh))
                part = []
                relay.flush(report)
        front, note = _front_and_note(cf, lines, renderer, compiled_by=compiled_by,
                                      checked_by=checked_by, now=now)
        bag.add(f"data/{FRONT['front']}", front, compress=False)
        report("documents", total - 1, total)
        bag.add(f"data/{FRONT['note']}", note, compress=False)
        report("documents", total, total)
        meanwhile(page - 1)
        handed.put(bag.release)
    finally:
        handed.put(None)
        while copier.is_alive():
            copier.join(0.25)
            relay.flush(report)
        for fh in spooled:  # written and closed, unless the copy stopped first
            fh.close()
    copier.value()
    relay.flush(report)
    return page - 1


def _stamp_part(bag: _BagWriter, stamper: Stamper, part: list[tuple[contents.Entry, Placed]],
                number: int, fh: BinaryIO) -> Callable[[], None]:
    """One file of the volume, its sheets stamped, into the temporary file ``fh`` (noting where
    each sheet is inside it); returns what writes it into the bag and closes it."""
    path = f"documents/part-{number:03d}.pdf"
    data, counts = stamper.write([placed for _e, placed in part])
    inside = 1
    for (entry, _p), n in zip(part, counts, strict=True):
        entry.pdf, entry.pdf_pages = path, (inside, inside + n - 1)
        inside += n
    fh.write(data)
    fh.seek(0)
    size = len(data)

    def write() -> None:
        with fh:
            bag.copy(f"data/{path}", fh, size, lambda n: None)
        bag.parts.append(path)

    return write


class _Relay:
    """Progress noted on one thread and reported on another."""

    def __init__(self):
        self._latest: tuple[str, int, int] | None = None
        self._sent: tuple[str, int, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Note the newest progress (one assignment: safe from any thread)."""
        self._latest = (phase, done, total)

    def flush(self, report: Progress) -> None:
        """Report the newest progress noted, if it was not reported yet."""
        latest = self._latest
        if latest is not None and latest != self._sent:
            self._sent = latest
            report(*latest)


def _front_and_note(cf: CaseFile, lines: list[contents.Entry], renderer: PdfRenderer, *,
                    compiled_by: str, checked_by: str, now: datetime) -> tuple[bytes, bytes]:
    """Cover and catalogue (they need every page number), and the 备考表, as two files."""
    front = renderer.render_part([pages.cover(cf, closing=pages.closing_time(cf)),
                                  pages.catalogue(cf, lines)])
    note = pages.note(cf, lines, compiled_by=compiled_by, checked_by=checked_by,
                      compiled_at=now)
    return front.data, renderer.render(note).data


def _documents_drawn(bag: _BagWriter, cf: CaseFile, lines: list[contents.Entry],
                     images: dict[str, tuple[str, bytes]], renderer: PdfRenderer,
                     report: Progress, *, compiled_by: str, checked_by: str,
                     now: datetime) -> int:
    """The fallback's volume (not archival): every sheet drawn now with its numbers."""
    total = len(lines) + 2
    page = 1
    part: list[tuple[contents.Entry, Layout]] = []

    def flush() -> None:
        path = f"documents/part-{len(bag.parts) + 1:03d}.pdf"
        pdf = renderer.write([layout for _e, layout in part])
        inside = 1
        for (entry, _sheet), n in zip(part, pdf.sheet_pages, strict=True):
            if n != entry.pages:
                raise DossierError(f"document {entry.serial} took {n} pages, not {entry.pages}")
            entry.pdf, entry.pdf_pages = path, (inside, inside + n - 1)
            inside += n
        bag.add(f"data/{path}", pdf.data, compress=False)
        bag.parts.append(path)
        part.clear()

    for i, entry in enumerate(lines):
        entry.first_page = page
        layout = renderer.layout(pages.entry_sheet(cf, entry, images.get))
        entry.pages = layout.pages
        page += entry.pages
        part.append((entry, layout))
        if sum(e.pages for e, _s in part) >= PART_PAGES:
            flush()
        report("documents", i + 1, total)
    if part:
        flush()
    front, note = _front_and_note(cf, lines, renderer, compiled_by=compiled_by,
                                  checked_by=checked_by, now=now)
    bag.add(f"data/{FRONT['front']}", front, compress=False)
    report("documents", total - 1, total)
    bag.add(f"data/{FRONT['note']}", note, compress=False)
    report("documents", total, total)
    return page - 1


# Cover and 卷内文件目录 in one file before the volume's parts; the 备考表 after them.
FRONT = {"front": "documents/front.pdf", "note": "documents/note.pdf"}
# About this many pages per file of the volume: bounded memory, one font subset per file.
PART_PAGES = 40


def _rows_and_proofs(bag: _BagWriter, cf: CaseFile, lines: list[contents.Entry],
                     renderer: PdfRenderer, total_pages: int, report: Progress) -> None:
    """The data files and the proofs."""
    _data_files(bag, cf, lines, renderer, total_pages)
    _proofs(bag, cf, report)


def _data_files(bag: _BagWriter, cf: CaseFile, lines: list[contents.Entry],
                renderer: PdfRenderer, total_pages: int) -> None:
    """catalogue.json, case.json, and each record's and evidence item's rows as logged."""
    bag.add_json("data/catalogue.json", {
        "format": FORMAT, "case_number": cf.number, "department": cf.department_code,
        "pages": total_pages, "pdf": renderer.variant, "front": FRONT,
        "documents": [e.to_json() for e in lines]})
    bag.add_json("data/case.json", {
        "department": {"code": cf.department_code, "name": cf.department_name},
        "case": cf.case.row, "party": cf.party.row if cf.party else None,
        "stage_changes": [s.row for s in cf.stage_changes],
        "refusals": [x.row for x in cf.case_refusals],
        # Rows of the case's later life (act end, earlier volumes, acceptance, uses, ...):
        # logged under the case, so proven here too.
        "other": _other_rows(cf)})
    for r in cf.records:
        bag.add_json(f"data/records/{r.id}.json", _record_json(r))
    for e in cf.evidence:
        bag.add_json(f"data/evidence/{e.id}.json", {"evidence": e.leaf.row})


CASE_FILE_TABLES = ("cases", "parties", "stage_changes", "records", "approvals", "signatures",
                    "refusals", "evidence")


def _other_rows(cf: CaseFile) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for leaf in cf.leaves:
        if leaf.table not in CASE_FILE_TABLES:
            out.setdefault(leaf.table, []).append(leaf.row)
    return out


def _record_json(r: RecordItem) -> dict:
    return {"record": r.leaf.row, "approvals": [a.row for a in r.approvals],
            "signatures": [s.row for s in r.signatures],
            "refusals": [x.row for x in r.refusals]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _proofs(bag: _BagWriter, cf: CaseFile, report: Progress) -> None:
    """Public key, checkpoints with consistency proofs, and one proof file per ledger entry."""
    key = Ed25519PublicKey.from_public_bytes(cf.public_key_raw)
    bag.add("data/proofs/public_key.pem", key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    newest = cf.newest
    for cp in cf.checkpoints:
        bag.add_json(f"data/proofs/checkpoints/{cp.tree_size}.json", {
            "origin": cf.origin, "tree_size": cp.tree_size, "root_hash": _b64(cp.root_hash),
            "note": cp.note, "signature": _b64(cp.signature), "key_id": cp.key_id,
            "algorithm": "Ed25519", "reason": cp.reason, "created_at": cp.created_at,
            "consistency": {"to": newest.tree_size, "to_root": _b64(newest.root_hash),
                            "proof": [_b64(h) for h in cp.consistency]}})
    total = len(cf.leaves)
    for i, (leaf, proof) in enumerate(zip(cf.leaves, cf.proofs, strict=True)):
        bag.add_json(f"data/proofs/entries/{leaf.seq}.json", _entry_json(leaf, proof))
        if i % 50 == 0 or i + 1 == total:
            report("proofs", i + 1, total)


def _entry_json(leaf: Leaf, proof) -> dict:
    return {"seq": leaf.seq, "kind": leaf.kind, "table": leaf.table, "id": leaf.id,
            "case_id": leaf.case_id, "at": leaf.at, "leaf": leaf.document.decode(),
            "leaf_hash": _b64(leaf.leaf_hash),
            "inclusion": {"tree_size": proof.tree_size,
                          "checkpoint": f"proofs/checkpoints/{proof.tree_size}.json",
                          "proof": [_b64(h) for h in proof.path]}}


def _manifest(lines: list[tuple[str, str]]) -> bytes:
    return "".join(f"{sha}  {_encode_path(path)}\n" for path, sha in sorted(lines)).encode()


def _encode_path(path: str) -> str:
    """RFC 8493 2.1.3: CR, LF and % in a manifest path are percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _seal(bag: _BagWriter, cf: CaseFile, signer: Signer, renderer: PdfRenderer,
          report: Progress) -> str:
    """Tag files last: bagit.txt, bag-info.txt, the manifests, its signature and the verifier."""
    report("seal", 0, 1)
    manifest = _manifest(bag.payload)
    manifest_sha = hashlib.sha256(manifest).hexdigest()
    bag.add("bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    info = [
        ("Source-Organization", cf.department_name),
        ("External-Identifier", cf.number),
        ("External-Description", f"行政执法案卷 {cf.case.row['title']}"),
        ("Bagging-Date", bag_date(bag)),
        ("Bag-Software-Agent", f"Quancheng dossier ({FORMAT})"),
        ("Payload-Oxum", f"{bag.payload_bytes}.{len(bag.payload)}"),
        ("Quancheng-Department", f"{cf.department_name} ({cf.department_code})"),
        ("Quancheng-Case-Number", cf.number),
        ("Quancheng-Built-At", _built_at(bag)),
        ("Quancheng-Ledger-Origin", cf.origin),
        ("Quancheng-Ledger-Key-Id", cf.key_id),
        ("Quancheng-Ledger-Public-Key-SHA256", hashlib.sha256(cf.public_key_raw).hexdigest()),
        ("Quancheng-Checkpoint-Size", str(cf.newest.tree_size)),
        ("Quancheng-PDF", renderer.variant),
    ]
    bag.add("bag-info.txt", "".join(f"{k}: {v}\n" for k, v in info).encode())
    bag.add("manifest-sha256.txt", manifest)
    note = manifest_note(cf.origin, cf.number, manifest_sha)
    bag.add_json("manifest-signature.json", {
        "note": note, "signature": _b64(signer.sign(note)), "key_id": cf.key_id,
        "algorithm": "Ed25519", "public_key": "data/proofs/public_key.pem"})
    bag.add("verify.py", VERIFIER.read_bytes())
    bag.add("README.txt", _readme(cf).encode())
    bag.zf.writestr(bag._info("tagmanifest-sha256.txt", True), _manifest(bag.tags))
    report("seal", 1, 1)
    return manifest_sha


def bag_date(bag: _BagWriter) -> str:
    """The bagging date (RFC 8493 Bagging-Date, YYYY-MM-DD)."""
    y, m, d = bag.date_time[:3]
    return f"{y:04d}-{m:02d}-{d:02d}"


def _built_at(bag: _BagWriter) -> str:
    y, mo, d, h, mi, s = bag.date_time
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def _readme(cf: CaseFile) -> str:
    key = hashlib.sha256(cf.public_key_raw).hexdigest()
    return (
        f"行政执法案卷 {cf.number}（{cf.department_name}）\n\n"
        "核验方法（离线，无需联网，无需全程系统）：\n"
        "1. 安装 Python 3.11 或更新版本，并执行 pip install cryptography。\n"
        "2. 从压缩包中取出 verify.py（或使用本单位公布的副本），在命令行运行：\n"
        "   python verify.py 本案卷.zip\n"
        "   结论为“通过”且退出码为 0 即完好；不通过时逐项列出有问题的文件。\n"
        f"3. 核对输出的公钥指纹与本单位公布的账本公钥指纹一致：\n   {key}\n\n"
        f"Case file {cf.number} ({cf.department_name})\n\n"
        "To verify offline (no network, no Quancheng needed):\n"
        "1. Install Python 3.11+ and run: pip install cryptography\n"
        "2. Run: python verify.py THIS_BAG.zip  (or the agency's published copy of verify.py);\n"
        "   the verdict must be PASS and the exit code 0.\n"
        "3. Check that the public key fingerprint it prints equals the one the agency publishes:\n"
        f"   {key}\n")


__all__ = ["BuildResult", "bag_name", "build_bag", "manifest_note"]

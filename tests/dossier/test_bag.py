"""The case file's bag (A32.1, A37.1): a case played to its legal end through the API, its bag
built, and the bag's own verify.py run in a fresh virtual environment with only
`cryptography`: it passes, and one changed byte in any file makes it fail naming that file."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import textwrap
import threading
import zipfile
from pathlib import Path

import bagit
import pytest
from sqlalchemy import select, text

from core import ledger
from core.dossier import DossierError, build_bag, load_case_file, seal_log
from core.dossier import verify as verify_module
from core.dossier.bag import bag_name
from core.ledger.models import LedgerCheckpoint, LedgerEntry
from tests.dossier.conftest import build

pytestmark = pytest.mark.slow

# Runs inside the fresh venv: imports the bag's own verify.py, changes one byte of each member
# in turn, rewrites the zip and verifies it; prints what each attempt reported.
TAMPER_DRIVER = textwrap.dedent("""
    import importlib.util, json, sys, zipfile, io
    spec = importlib.util.spec_from_file_location("bag_verify", sys.argv[1])
    verify = sys.modules["bag_verify"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verify)
    src = zipfile.ZipFile(sys.argv[2])
    members = [i for i in src.infolist() if not i.is_dir()]
    results = []
    for target in members:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in members:
                data = src.read(info)
                if info is target:
                    data = bytearray(data)
                    pos = len(data) // 2
                    data[pos] ^= 0x01
                    data = bytes(data)
                copy = zipfile.ZipInfo(info.filename, info.date_time)  # writestr mutates it
                copy.compress_type = info.compress_type
                dst.writestr(copy, data)
        path = sys.argv[3]
        with open(path, "wb") as fh:
            fh.write(out.getvalue())
        report = verify.verify_bag(path)
        rel = target.filename.split("/", 1)[1]
        results.append({"file": rel, "ok": report.ok,
                        "named": any(f.file == rel or rel in f.zh for f in report.failures),
                        "text": report.text()})
    print(json.dumps(results, ensure_ascii=False))
""")


def _extract_verifier(bag: Path, where: Path) -> Path:
    with zipfile.ZipFile(bag) as zf:
        data = zf.read(f"{bag_name(_case_number(zf))}/verify.py")
    path = where / "verify.py"
    path.write_bytes(data)
    return path


def _case_number(zf: zipfile.ZipFile) -> str:
    info = zf.read(next(n for n in zf.namelist() if n.endswith("/bag-info.txt"))).decode()
    return next(line.split(": ", 1)[1] for line in info.splitlines()
                if line.startswith("Quancheng-Case-Number"))


def _run(python: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run([str(python), *args], capture_output=True, text=True, env=env,
                          timeout=600, check=False)


def test_the_bags_own_verifier_passes_in_a_fresh_venv(played, verifier_python, tmp_path):
    """A32.1, A37.1: the bag of a case played to archiving passes its own verify.py run in a
    virtual environment that has nothing but `cryptography` (no Quancheng, no pins of ours)."""
    verifier = _extract_verifier(played["bag"], tmp_path)
    assert verifier.read_bytes() == Path(verify_module.__file__).read_bytes()
    listed = _run(verifier_python, "-m", "pip", "list", "--format=json")
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert names - {"pip", "setuptools"} <= {"cryptography", "cffi", "pycparser"}
    done = _run(verifier_python, str(verifier), str(played["bag"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "核验结论：通过" in done.stdout and "verdict: PASS" in done.stdout
    entries = len(played["cf"].leaves)
    assert f"{entries} 条账本记录" in done.stdout
    assert hashlib.sha256(played["cf"].public_key_raw).hexdigest() in done.stdout


def test_one_changed_byte_in_any_file_fails_naming_that_file(played, verifier_python, tmp_path):
    """A37.1: every file of the bag, in turn, gets one byte changed; the bag's own verify.py
    (fresh venv) fails each time and names the changed file."""
    verifier = _extract_verifier(played["bag"], tmp_path)
    driver = tmp_path / "driver.py"
    driver.write_text(TAMPER_DRIVER)
    done = _run(verifier_python, str(driver), str(verifier), str(played["bag"]),
                str(tmp_path / "mutant.zip"))
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    with zipfile.ZipFile(played["bag"]) as zf:
        assert len(results) == len(zf.namelist()) > 80
    passed = [r["file"] for r in results if r["ok"]]
    unnamed = [(r["file"], r["text"]) for r in results if not r["named"]]
    assert passed == []
    assert unnamed == []


def test_a_damaged_zip_member_is_named(played, verifier_python, tmp_path):
    """A37.1: a byte flipped in the zip file itself (not re-zipped) breaks that member's CRC;
    the verifier names the member and exits 1."""
    raw = bytearray(played["bag"].read_bytes())
    with zipfile.ZipFile(played["bag"]) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(".jpg"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(raw))
    verifier = _extract_verifier(played["bag"], tmp_path)
    done = _run(verifier_python, str(verifier), str(broken))
    assert done.returncode == 1
    assert info.filename.split("/", 1)[1] in done.stdout
    assert "不通过" in done.stdout and "FAIL" in done.stdout


def test_the_bag_is_valid_bagit(played, tmp_path):
    """RFC 8493: an independent BagIt implementation (bagit-python) validates the unpacked
    bag, and bag-info.txt names the department, the case number and the build time."""
    with zipfile.ZipFile(played["bag"]) as zf:
        zf.extractall(tmp_path / "unpacked")
    root = tmp_path / "unpacked" / played["result"].bag_name
    bag = bagit.Bag(str(root))
    bag.validate()
    info = bag.info
    cf = played["cf"]
    assert info["Quancheng-Case-Number"] == cf.number == played["case"]["number"]
    assert cf.department_name in info["Quancheng-Department"]
    assert info["Source-Organization"] == cf.department_name
    assert info["Quancheng-Built-At"].startswith(info["Bagging-Date"])
    assert info["Quancheng-PDF"] == "pdf/a-2b"


def test_proofs_are_the_logged_leaves_and_the_originals_are_untouched(played, container):
    """A37.1: every ledger entry of the case (its party's too) is in proofs/ with the exact
    canonical leaf document the ledger hashed; every evidence original equals its blob."""
    case_id = played["case"]["id"]
    with container.uow() as uow:
        entries = uow.session.execute(select(LedgerEntry).where(
            (LedgerEntry.case_id == case_id) | (LedgerEntry.kind == "party"))
            .order_by(LedgerEntry.seq)).scalars().all()
        docs = {}
        for e in entries:
            row = uow.session.get(ledger.COVERED[e.kind].model, e.subject_id)
            docs[e.seq] = (ledger.canonical_json(ledger.leaf_document(e, row)), e.leaf_hash)
    root = played["result"].bag_name
    with zipfile.ZipFile(played["bag"]) as zf:
        names = set(zf.namelist())
        for seq, (doc, leaf_hash) in docs.items():
            proof = json.loads(zf.read(f"{root}/data/proofs/entries/{seq}.json"))
            assert proof["leaf"].encode() == doc
            assert base64.b64decode(proof["leaf_hash"]) == leaf_hash
        assert {n for n in names if "/proofs/entries/" in n} == {
            f"{root}/data/proofs/entries/{s}.json" for s in docs}
        for e in played["cf"].evidence:
            member = next(n for n in names if f"/data/evidence/{e.id}." in n
                          and not n.endswith(".json"))
            with container.blobs.open(e.sha256) as fh:
                assert zf.read(member) == fh.read()
            assert zf.getinfo(member).compress_type == zipfile.ZIP_STORED


def test_build_streams_to_a_pipe_and_reports_progress(played, container, tmp_path):
    """The bag can be written to a non-seekable stream (an HTTP response, a pipe), and the
    progress callback walks every phase to its end."""
    read_fd, write_fd = os.pipe()
    received = io.BytesIO()

    def drain():
        with os.fdopen(read_fd, "rb") as src:
            while chunk := src.read(65536):
                received.write(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    seen: dict[str, tuple[int, int]] = {}
    with os.fdopen(write_fd, "wb") as sink:
        build_bag(played["cf"], container.blobs, sink, container.signer, compiled_by="张伟",
                  progress=lambda phase, done, total: seen.__setitem__(phase, (done, total)))
    reader.join()
    assert set(seen) == {"evidence", "documents", "proofs", "seal"}
    assert all(done == total > 0 for done, total in seen.values())
    piped = tmp_path / "piped.zip"
    piped.write_bytes(received.getvalue())
    from core.dossier.verify import verify_bag

    assert verify_bag(str(piped)).ok


def test_a_changed_row_or_blob_stops_the_build(played, container, tmp_path):
    """A37.1: the builder never packs what no longer matches the ledger: a row edited behind
    the ledger's back, or an original changed in the blob store, stops it with a clear error."""
    cf = played["cf"]
    photo = next(e for e in cf.evidence if e.leaf.row["filename"].endswith(".jpg"))
    path = container.blobs.local_path(photo.sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DossierError, match=f"evidence {photo.id}"):
        build_bag(cf, container.blobs, tmp_path / "x.zip", container.signer, compiled_by="张伟")
    record = cf.records[0]
    with container.uow() as uow:
        uow.session.execute(text("UPDATE records SET stage = 'decision' WHERE id = :id"),
                            {"id": record.id})
    with container.uow() as uow, pytest.raises(DossierError, match="differs from what was"):
        load_case_file(uow.session, played["case"]["id"], uow.signer)


def test_seal_signs_only_when_the_log_grew(played, container, flow):
    """A checkpoint is signed for the dossier only when the newest one does not cover the log;
    without one the loader refuses rather than ship an entry with no proof."""
    with container.uow() as uow:
        before = uow.session.execute(select(LedgerCheckpoint)).scalars().all()
        again = seal_log(uow.session, uow.signer)
        assert len(uow.session.execute(select(LedgerCheckpoint)).scalars().all()) == len(before)
        assert again.tree_size == ledger.current_size(uow.session)
    flow.av(played["case"], None)  # one more entry after the seal
    with container.uow() as uow, pytest.raises(DossierError, match="seal the log first"):
        load_case_file(uow.session, played["case"]["id"], uow.signer)
    cf, result = build(container, played["case"]["id"], Path(played["bag"]).with_name("b2.zip"))
    assert result.documents == played["result"].documents + 1
    assert cf.newest.reason == "dossier"

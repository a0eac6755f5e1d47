"""Pre-rendered sheets (A32.1): each record's and evidence item's sheet is laid out once, cached
under the hash of what it shows, and stamped with the volume's page numbers at build time; a
change to what a sheet shows makes a new key; the stamped numbers are the catalogue's."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace

import pytest
from pypdf import PdfReader

from core.dossier import contents, pages
from core.dossier.pdf import PdfRenderer, cjk_font_installed
from core.dossier.prerender import prerender_case
from core.dossier.sheet_cache import SheetCache, sheet_key, unnumbered
from core.dossier.snapshot import Leaf
from tests.dossier.conftest import build

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not cjk_font_installed(), reason="needs fonts-noto-cjk (the archival renderer caches "
                                     "sheets; .ci/run installs it)")]


def _members(bag) -> dict[str, bytes]:
    with zipfile.ZipFile(bag) as zf:
        return {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist()}


def _cached_files(cache: SheetCache) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in cache.root.rglob("*.pdf")}


def test_a_cached_sheet_is_reused_when_nothing_changed(played, container, tmp_path):
    """A32.1: the first build lays out every record and evidence sheet (and the line the
    stamps' font comes from) into the cache; a second build with nothing changed lays out
    none, leaves every cached file as it was, and writes the same volume byte for byte."""
    case_id = played["case"]["id"]
    cache = SheetCache(tmp_path / "sheets")
    _cf, first = build(container, case_id, tmp_path / "a.zip", sheets=cache)
    sheets = first.documents + 1  # and the line the stamps' font comes from
    assert cache.rendered == sheets and cache.reused == 0
    files = _cached_files(cache)
    assert len(files) == sheets
    again = SheetCache(tmp_path / "sheets")
    build(container, case_id, tmp_path / "b.zip", sheets=again)
    assert again.rendered == 0 and again.reused == sheets
    assert _cached_files(again) == files
    a, b = _members(tmp_path / "a.zip"), _members(tmp_path / "b.zip")
    parts = sorted(n for n in a if "/documents/part-" in n)
    assert parts and all(a[n] == b[n] for n in parts)


def test_a_signature_added_after_caching_makes_a_new_key_and_the_volume_shows_it(
        played, container, tmp_path):
    """A32.1: a signature added to a record after its sheet was cached gives the sheet a new
    key; the next build lays out that sheet alone and the volume shows the new signer."""
    cf = played["cf"]
    cache = SheetCache(tmp_path / "sheets")
    renderer = PdfRenderer(author=cf.department_name)
    case_id = played["case"]["id"]
    build(container, case_id, tmp_path / "a.zip", sheets=cache, renderer=renderer)
    before = cache.rendered
    record = next(r for r in cf.records if r.signatures)
    old = record.signatures[0]
    row = dict(old.row, id="sig-added-later", signer_name="欧阳新签")
    added = Leaf(seq=old.seq, kind=old.kind, table=old.table, id=row["id"],
                 case_id=old.case_id, at=old.at, leaf_hash=old.leaf_hash,
                 document=old.document, row=row)
    changed = replace(record, signatures=(*record.signatures, added))
    cf2 = replace(cf, records=tuple(changed if r.id == record.id else r for r in cf.records))
    entry = next(e for e in contents.entries(cf) if e.id == record.id)
    images = {}
    key_before = sheet_key(unnumbered(pages.record_sheet(cf, record, entry, images.get)),
                           renderer)
    key_after = sheet_key(unnumbered(pages.record_sheet(cf2, changed, entry, images.get)),
                          renderer)
    assert key_before != key_after
    from core.dossier import build_bag

    out = tmp_path / "b.zip"
    build_bag(cf2, container.blobs, out, container.signer, compiled_by="张伟",
              renderer=renderer, sheets=cache)
    assert cache.rendered == before + 1  # that record's sheet only
    members = _members(out)
    catalogue = json.loads(members["data/catalogue.json"])
    doc = next(d for d in catalogue["documents"] if d["id"] == record.id)
    first, last = doc["pdf_pages"]
    reader = PdfReader(io.BytesIO(members[f"data/{doc['files']['pdf']}"]))
    text = "".join(p.extract_text() for p in reader.pages[first - 1:last])
    assert "欧阳新签" in re.sub(r"\s+", "", text)
    assert "欧阳新签" not in re.sub(r"\s+", "", "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(_members(tmp_path / "a.zip")[
            f"data/{doc['files']['pdf']}"])).pages[first - 1:last]))


def test_stamped_page_numbers_equal_the_catalogues(played):
    """A32.1: every page of the volume carries the number the 卷内文件目录 gives it (第 N 页)
    and its document's serial; the numbers run through the parts without a gap, and the
    catalogue PDF prints the same page ranges as catalogue.json."""
    members = _members(played["bag"])
    catalogue = json.loads(members["data/catalogue.json"])
    expected = 1
    readers: dict[str, PdfReader] = {}
    for doc in catalogue["documents"]:
        path = f"data/{doc['files']['pdf']}"
        reader = readers.setdefault(path, PdfReader(io.BytesIO(members[path])))
        first, last = doc["pdf_pages"]
        assert doc["first_page"] == expected and last - first + 1 == doc["pages"]
        for k, page in enumerate(reader.pages[first - 1:last]):
            text = page.extract_text()
            assert f"第 {doc['first_page'] + k} 页" in text, (doc["serial"], k)
            assert f"卷内序号 {doc['serial']}" in text
            # No other page number on the page: the cached sheet carries none of its own.
            assert len(re.findall(r"第 \d+ 页", text)) == 1
        expected += doc["pages"]
    assert expected - 1 == catalogue["pages"] == played["result"].pages
    assert sum(len(r.pages) for r in readers.values()) == catalogue["pages"]
    for path, reader in readers.items():
        # Still PDF/A-2b as claimed: the sRGB output intent, a file identifier, and document
        # information that agrees with the XMP (WeasyPrint's producer, not pypdf's).
        root = reader.trailer["/Root"]
        assert "/OutputIntents" in root and "/ID" in reader.trailer, path
        xmp = reader.xmp_metadata.stream.get_data().decode()
        assert reader.metadata["/Producer"] in xmp and reader.metadata["/Title"] in xmp, path
    front = PdfReader(io.BytesIO(members["data/documents/front.pdf"]))
    flat = re.sub(r"\s+", "", "".join(p.extract_text() for p in front.pages[1:]))
    position = 0
    for doc in catalogue["documents"]:
        at = flat.find(doc["number"], position)
        assert at >= 0, doc["serial"]
        last = doc["first_page"] + doc["pages"] - 1
        shown = str(doc["first_page"]) if last == doc["first_page"] else \
            f"{doc['first_page']}-{last}"
        assert flat.find(doc["date"] + shown, at) >= 0, (doc["serial"], shown)
        position = at + 1


def test_a_signing_commit_queues_the_case_and_the_job_lays_out_only_what_changed(
        flow, container, tmp_path):
    """A32.1: a commit that adds a record or a signature calls the sheet hooks with its case;
    the job then lays out only the sheets not cached yet."""
    owed: list[list[str]] = []
    container.sheet_hooks.append(owed.append)
    case = flow.filed(party={"name": "岳阳某建设有限公司"})
    owed.clear()
    inspection = flow.record(case, "onsite_inspection_record")
    assert [case["id"]] in owed
    cache = SheetCache(tmp_path / "sheets")
    first = prerender_case(container, case["id"], cache=cache)
    assert first.rendered >= 2 and first.reused == 0  # filing form and inspection
    assert prerender_case(container, case["id"], cache=cache).rendered == 0
    owed.clear()
    flow.sign_all(case, inspection, skip=("party",))
    assert owed and all(ids == [case["id"]] for ids in owed)
    after = prerender_case(container, case["id"], cache=cache)
    assert after.rendered == 1 and after.reused == first.rendered + first.reused - 1


def test_the_inprocess_worker_lays_out_the_sheets_a_commit_owed(flow, container, tmp_path,
                                                                  monkeypatch):
    """A32.1: with no Redis, the web process's worker notes the cases a commit owed and its
    next run lays their sheets out into the instance folder's cache; a later build of that
    case lays out none of them again."""
    from notifications.config import NotifyConfig
    from worker.config import WorkerConfig
    from worker.inprocess import InprocessWorker

    worker = InprocessWorker(container, {}, NotifyConfig(), WorkerConfig())
    container.sheet_hooks.append(worker.owe_sheets)
    monkeypatch.setattr(worker, "wake", lambda: None)  # no thread: run_once is called here
    case = flow.filed(party={"name": "岳阳某建设有限公司"})
    flow.record(case, "onsite_inspection_record")
    assert case["id"] in worker._sheets_owed
    worker.run_once()
    assert not worker._sheets_owed
    from core.dossier.prerender import cache_of

    cache = cache_of(container)
    made = sorted(p.name for p in cache.root.rglob("*.pdf"))
    assert len(made) >= 2
    assert prerender_case(container, case["id"], cache=cache).rendered == 0


def test_a_cached_sheet_changed_on_disk_is_never_used(played, container, tmp_path):
    """A32.1, A34.1: the cache is a folder an operator (or an intruder) can write; a cached
    sheet whose bytes no longer match the hash in its name is set aside and laid out again, so
    the volume shows what the records say, not what the file was changed to."""
    case_id = played["case"]["id"]
    cache = SheetCache(tmp_path / "sheets")
    build(container, case_id, tmp_path / "a.zip", sheets=cache)
    victim = sorted(cache.root.rglob("*.pdf"))[0]
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes().replace(b"/Producer", b"/Producex", 1) + b"%x\n")
    again = SheetCache(tmp_path / "sheets")
    build(container, case_id, tmp_path / "b.zip", sheets=again)
    assert again.rendered == 1
    a, b = _members(tmp_path / "a.zip"), _members(tmp_path / "b.zip")
    parts = sorted(n for n in a if "/documents/part-" in n)
    assert parts and all(a[n] == b[n] for n in parts)
    assert any(p.name.startswith(".altered-") for p in victim.parent.iterdir())

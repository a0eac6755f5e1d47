"""The case file's pages (A32.1, A34.1): every PDF embeds every font (pdffonts), is PDF/A-2b,
and the 卷内文件目录 lists the case's records and evidence in time order (text extraction)."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import zipfile
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.cases.models import Evidence
from core.dossier.pages import Pairs, Sheet
from core.dossier.pdf import PdfRenderer, cjk_font_installed
from core.kernel.texts import choice
from core.rules.calendar import LEGAL_TZ
from core.rules.catalogue import BY_NAME

pytestmark = pytest.mark.slow
needs_tools = pytest.mark.skipif(
    shutil.which("pdffonts") is None or not cjk_font_installed(),
    reason="needs poppler-utils (pdffonts) and fonts-noto-cjk; .ci/run installs both")


def _pdfs(bag) -> dict[str, bytes]:
    with zipfile.ZipFile(bag) as zf:
        return {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist() if n.endswith(".pdf")
                and "/data/documents/" in n}


def _catalogue(bag) -> dict:
    with zipfile.ZipFile(bag) as zf:
        return json.loads(zf.read(next(n for n in zf.namelist()
                                       if n.endswith("/data/catalogue.json"))))


def _pages_text(pdf: bytes, first: int = 1, last: int | None = None) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join(p.extract_text() for p in pages[first - 1:last])


def _fonts(pdf: bytes, tmp_path) -> list[dict]:
    """pdffonts' table: one dict per font with its name, type and emb column."""
    path = tmp_path / "f.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()[2:]
    fonts = []
    for line in lines:
        # name, then type (may hold spaces), encoding, emb, sub, uni, object, generation
        m = re.match(r"(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$",
                     line)
        assert m, line
        fonts.append({"name": m.group(1), "type": m.group(2), "emb": m.group(4)})
    return fonts


@needs_tools
def test_every_font_of_every_dossier_pdf_is_embedded(played, tmp_path):
    """A34.1: readable in 25 years on any machine: pdffonts lists at least one font in each
    dossier PDF and every one is embedded; each file declares PDF/A-2b in its XMP metadata."""
    pdfs = _pdfs(played["bag"])
    catalogue = _catalogue(played["bag"])
    listed = {f"data/{d['files']['pdf']}" for d in catalogue["documents"]}
    listed |= {f"data/{p}" for p in catalogue["front"].values()}
    assert set(pdfs) == listed and len(pdfs) >= 3
    for name, data in pdfs.items():
        fonts = _fonts(data, tmp_path)
        assert fonts, name
        assert [f for f in fonts if f["emb"] != "yes"] == [], name
        assert any("Noto-Serif-CJK-SC" in f["name"] for f in fonts), name
        xmp = PdfReader(io.BytesIO(data)).xmp_metadata
        assert xmp is not None, name
        raw = xmp.stream.get_data().decode()
        assert re.search(r"pdfaid:part[^0-9]*2", raw) and re.search(
            r"pdfaid:conformance[^A-Z]*B", raw), name


def test_the_catalogue_lists_records_and_evidence_in_time_order(played, flow, container):
    """A32.1: the text of 卷内文件目录 lists every record (GET .../records) and every evidence
    item of the case, merged in time order, with its serial and document number."""
    case = played["case"]
    records = flow.get(f"/api/v1/cases/{case['id']}/records")["records"]
    with container.uow() as uow:
        evidence = uow.session.execute(select(Evidence).where(Evidence.case_id == case["id"])
                                       ).scalars().all()
        items = [(datetime.fromisoformat(r["occurred_at"]), r["id"][:12],
                  BY_NAME[r["type"]].title_zh) for r in records]
        items += [((e.captured_at or e.created_at), e.sha256[:12], e.proves) for e in evidence]
    items.sort(key=lambda t: t[0])
    assert len(items) == len(records) + len(evidence) > 15
    front = _pdfs(played["bag"])["data/documents/front.pdf"]
    assert "行政执法案卷" in _pages_text(front, 1, 1)
    text = _pages_text(front, 2)  # page 1 is the cover
    flat = re.sub(r"\s+", "", text)
    assert "卷内文件目录" in flat and case["number"] in flat
    position = -1
    for serial, (_when, number, title) in enumerate(items, start=1):
        found = flat.find(f"{serial}", position + 1)
        at = flat.find(number, position + 1)
        assert at > position, f"item {serial} ({title} {number}) is missing or out of order"
        assert found <= at
        assert re.sub(r"\s+", "", title)[:4] in flat[position + 1:at + 40]
        position = at
    rows = re.findall(r"(?m)^\s*\d+\s", text)
    assert len(rows) >= len(items)


def test_a_record_page_shows_the_catalogue_labels_signatures_and_refusal(played):
    """A13.2, A22.2: the inspection record's page carries its fields under the catalogue's
    Chinese labels (choices in words), its officers' signatures and the party's refusal with
    witnesses."""
    cf = played["cf"]
    inspection = next(r for r in cf.records if r.type == "onsite_inspection_record")
    entry = next(d for d in _catalogue(played["bag"])["documents"] if d["id"] == inspection.id)
    first, last = entry["pdf_pages"]
    text = _pages_text(_pdfs(played["bag"])[f"data/{entry['files']['pdf']}"], first, last)
    assert f"第 {entry['first_page']} 页" in text
    flat = re.sub(r"\s+", "", text)
    rtype = BY_NAME["onsite_inspection_record"]
    for field, value in inspection.leaf.row["fields"].items():
        f = rtype.field(field)
        if f is not None and isinstance(value, str):
            shown = choice(value, field=field) if f.type == "enum" else value
            assert f.label_zh.replace(" ", "") in flat
            assert shown.replace(" ", "") in flat
    assert "现场检查(勘验)笔录".replace("(", "（")[:4] in flat.replace("(", "（")
    assert "拒绝签名" in flat and "黄敏" in flat and "签名图像" in flat


def test_without_the_cjk_font_the_fallback_warns_and_is_not_archival(caplog, tmp_path):
    """The non-embedded STSong-Light font is only a fallback: it logs a warning, the renderer
    says the files are not PDF/A, and pdffonts shows the font as not embedded."""
    with caplog.at_level(logging.WARNING, logger="core.dossier.pdf"):
        renderer = PdfRenderer(prefer_archival=False)
    assert "NOT archival" in caplog.text and "fonts-noto-cjk" in caplog.text
    assert not renderer.archival and "not embedded" in renderer.variant
    pdf = renderer.render(Sheet("卷内备考表", [Pairs([("立卷人", "张伟")])], first_page=3))
    assert pdf.pages == 1
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "立卷人" in text and "第 3 页" in text
    if shutil.which("pdffonts"):
        fonts = _fonts(pdf.data, tmp_path)
        assert any(f["name"] == "STSong-Light" for f in fonts)
        assert {f["emb"] for f in fonts} == {"no"}


def test_cover_and_note_name_the_case_dates_officers_pages_and_compilers(played):
    """A32.1, A34.1: the cover gives case number, cause, party, filing and closing dates,
    officers and the retention period; the 备考表 gives the page count, who compiled and who
    checked, when, and the case's stage history."""
    cf, result = played["cf"], played["result"]
    pdfs = _pdfs(played["bag"])
    cover = re.sub(r"\s+", "", _pages_text(pdfs["data/documents/front.pdf"], 1, 1))
    row = cf.case.row
    for text in (row["number"], row["title"], "岳阳某建设有限公司", "保管期限25年（A34.1）",
                 "立案日期", "结案日期", "张伟", "李娜", cf.department_name):
        assert re.sub(r"\s+", "", text) in cover, text
    opened = datetime.fromisoformat(row["opened_at"]).astimezone(LEGAL_TZ).date().isoformat()
    closing = max(datetime.fromisoformat(x.row["at"]) for x in cf.stage_changes
                  if x.row["to_stage"] == "archiving").astimezone(LEGAL_TZ).date().isoformat()
    assert opened in cover and closing in cover
    note = re.sub(r"\s+", "", _pages_text(pdfs["data/documents/note.pdf"]))
    assert f"共{result.pages}页" in note
    assert "立卷人张伟" in note and "检查人李娜" in note and "程序流转" in note
    assert note.count("调查取证") >= 1 and "归档管理" in note


def _boxes(document) -> list[tuple]:
    """Every laid-out box of every page: kind, position, size and text (WeasyPrint's page box
    tree; private, read only here to prove two style sheets lay out alike)."""
    out = []

    def walk(box, page):
        out.append((page, type(box).__name__, round(box.position_x, 3),
                    round(box.position_y, 3), round(box.width or 0, 3),
                    round(box.height or 0, 3), getattr(box, "text", None)))
        for child in getattr(box, "children", ()):
            walk(child, page)

    for n, page in enumerate(document.pages):
        walk(page._page_box, n)
    return out


@needs_tools
def test_the_cut_user_agent_sheet_lays_out_every_page_as_the_full_one(played):
    """A32.1: the pages use a user-agent style sheet cut to the template's elements
    (templates/ua.css, for speed); every sheet of the case file, signature images included,
    lays out box for box as with WeasyPrint's full HTML5 sheet, and the template uses no
    element the cut sheet does not cover."""
    import html.parser

    from PIL import Image
    from weasyprint import HTML

    from core.dossier import contents, pages
    from core.dossier.pdf import TEMPLATES

    cf = played["cf"]
    lines = contents.entries(cf)
    for n, e in enumerate(lines, start=1):  # numbered through, as the build numbers them
        e.first_page, e.pages = n, 1
    records = {r.id: r for r in cf.records}
    evidence = {e.id: e for e in cf.evidence}
    png = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 20, 20)).save(png, format="PNG")
    signature = ("image/png", png.getvalue())
    sheets = [pages.cover(cf, closing=pages.closing_time(cf)), pages.catalogue(cf, lines),
              pages.note(cf, lines, compiled_by="张伟", checked_by="李娜",
                         compiled_at=datetime(2026, 11, 1, tzinfo=LEGAL_TZ))]
    sheets += [pages.record_sheet(cf, records[e.id], e, lambda _sha: signature)
               if e.kind == "record" else pages.evidence_sheet(cf, evidence[e.id], e)
               for e in lines]
    renderer = PdfRenderer(author="test")
    ua = re.sub(r"/\*.*?\*/", "", (TEMPLATES / "ua.css").read_text(), flags=re.S)
    covered = set(re.findall(r"\b[a-z][a-z0-9]*\b(?=[^{}]*\{)", ua))
    used: set[str] = set()

    class Tags(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            used.add(tag)

    for sheet in sheets:
        source = renderer._template.render(sheet=sheet, author="test")
        Tags().feed(source)
        kw = {"stylesheets": renderer._css, "font_config": renderer._fonts}
        cut = renderer._html(string=source, base_url=str(TEMPLATES)).render(**kw)
        full = HTML(string=source, base_url=str(TEMPLATES)).render(**kw)
        assert _boxes(cut) == _boxes(full), sheet.title
    assert "img" in used and "table" in used
    # The HTML parser adds tbody to a table written without one.
    assert used | {"tbody"} <= covered, used - covered

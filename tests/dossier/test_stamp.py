"""Stamping cached sheets into volume parts with pikepdf (A32.1, core.dossier.stamp): a page
that inherits its resources or keeps its fonts in a direct dictionary is stamped like a
WeasyPrint one; a damaged or encrypted sheet is refused, not repaired; stamping draws only in
the bottom margin; the same sheets at the same places give the same bytes."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess

import pikepdf
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from core.dossier.pages import Pairs, Sheet
from core.dossier.pdf import PdfRenderer, cjk_font_installed
from core.dossier.sheet_cache import CachedSheet, SheetCache
from core.dossier.stamp import MM, Placed, SheetError, Stamper, open_sheet

needs_font = pytest.mark.skipif(not cjk_font_installed(),
                                reason="needs fonts-noto-cjk (.ci/run)")
CASE = "岳建罚〔2026〕7号"


def _pdf(objects: dict[int, bytes], root: int, info: int) -> bytes:
    """A PDF with one classic cross-reference table, objects given as their bodies."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, root, info, xref)
    return bytes(out)


CONTENT = b"BT /F1 12 Tf 72 700 Td (Hello sheet) Tj ET"
# A page with no resources of its own (inherited from its page tree, the fonts in a direct
# dictionary), its content an indirect array, one stream's /Length an indirect object, and
# strings that look like references.
OBJECTS = {
    1: b"<< /Type /Catalog /Pages 2 0 R /Lang (zh\\055CN) >>",
    2: b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 /MediaBox [ 0 0 595 842 ]"
       b" /Resources << /Font << /F1 4 0 R >> >> >>",
    3: b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /StructParents 0 >>",
    4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    5: b"[ 6 0 R ]",
    6: b"<< /Length 7 0 R >>\nstream\n" + CONTENT + b"\nendstream",
    7: b"%d" % len(CONTENT),
    8: b"<< /Title (a \\(1 0 R\\) (9 0 R) b) /Producer <3120302052> /Creator (x) >>",
}
SHEET = _pdf(OBJECTS, root=1, info=8)


def _cached(tmp_path, data: bytes, name: str = "sheet.pdf", pages: int = 1) -> CachedSheet:
    path = tmp_path / name
    path.write_bytes(data)
    return CachedSheet("k" * 64, path, pages, hashlib.sha256(data).hexdigest())


def _encrypted() -> bytes:
    with pikepdf.open(io.BytesIO(SHEET)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="o", user=""))
        return out.getvalue()


@pytest.mark.parametrize("damage", [
    lambda d: d.replace(b"\nxref\n", b"\nxrex\n"),  # no cross-reference table where it says
    lambda d: d.replace(b"/Length 7 0 R", b"/Length 99   "),  # stream data not /Length long
    lambda d: d[:-60],  # cut short
    lambda d: b"not a PDF",
    lambda d: _encrypted(),
], ids=["xref", "length", "truncated", "not-pdf", "encrypted"])
def test_a_damaged_or_encrypted_sheet_is_refused_not_repaired(damage):
    """A32.1: qpdf would rebuild a broken file and carry on; a cached sheet is opened only as
    it was written, anything else is refused with an error naming it."""
    assert open_sheet(SHEET, "the sheet").pages  # the undamaged file opens
    with pytest.raises(SheetError, match="the sheet"):
        open_sheet(damage(SHEET), "the sheet")


@pytest.mark.slow
@needs_font
def test_a_page_with_inherited_resources_is_stamped(tmp_path):
    """A32.1: the page gets its inherited resources and box, the stamp font beside its own,
    its content wrapped and followed by the stamp; its text and the stamp are extractable."""
    cached = _cached(tmp_path, SHEET)
    stamper = Stamper(PdfRenderer(author="岳阳市住房和城乡建设局"), CASE)
    data, counts = stamper.write([Placed(cached, 5, 3), Placed(cached, 6, 4)])
    assert counts == [1, 1]
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    for k, page in enumerate(reader.pages):
        text = page.extract_text()
        assert "Hello sheet" in text
        assert f"第 {5 + k} 页" in text and f"卷内序号 {3 + k}" in text
        assert sorted(page["/Resources"]["/Font"]) == ["/F1", "/QcStamp"]
        assert [float(x) for x in page["/MediaBox"]] == [0, 0, 595, 842]
        assert page["/Parent"].get_object()["/Type"] == "/Pages"
        assert "/StructParents" not in page
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert reader.metadata["/Title"] == "a (1 0 R) (9 0 R) b"
    # The source file's page tree is not copied: one page tree, two pages.
    assert len(re.findall(rb"/Type /Pages", data)) == 1
    # The same sheets at the same places: the same bytes, the part's own identifier first.
    assert stamper.write([Placed(cached, 5, 3), Placed(cached, 6, 4)])[0] == data
    ident = reader.trailer["/ID"][0]
    assert len(ident) == 16 and ident != stamper.write([Placed(cached, 7, 3)])[0]


@pytest.mark.slow
@needs_font
def test_a_sheet_with_a_font_named_like_the_stamps_is_refused(tmp_path):
    """A32.1: a sheet whose page already names a /QcStamp font would have its text drawn
    with the wrong font: refused."""
    clash = _pdf({**OBJECTS, 2: OBJECTS[2].replace(b"/F1", b"/QcStamp")}, root=1, info=8)
    stamper = Stamper(PdfRenderer(author="岳阳市住房和城乡建设局"), CASE)
    with pytest.raises(SheetError, match="stamp font"):
        stamper.write([Placed(_cached(tmp_path, clash), 1, 1)])


def _render(pdf: bytes, tmp_path, name: str) -> list[Image.Image]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "72", "-gray", str(path), str(tmp_path / name)],  # noqa: S603,S607
                   check=True, timeout=120)
    images = []
    for p in sorted(tmp_path.glob(f"{name}-*.pgm")):
        with Image.open(p) as image:
            images.append(image.copy())
    return images


@pytest.mark.slow
@needs_font
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (.ci/run)")
def test_stamping_draws_only_in_the_bottom_margin(tmp_path):
    """A32.1: a WeasyPrint sheet stamped into a part looks exactly as cached above its bottom
    margin (its content copied, not changed), and the stamp is drawn inside that margin."""
    renderer = PdfRenderer(author="岳阳市住房和城乡建设局")
    cache = SheetCache(tmp_path / "sheets")
    rows = [(f"字段{j}", f"岳阳某建设有限公司 现场检查内容 {j} " * 12) for j in range(14)]
    cached = cache.sheet(Sheet("现场检查笔录", [Pairs(rows, heading="基本信息")]), renderer)
    assert cached.pages >= 2
    stamped, _counts = Stamper(renderer, CASE, cache).write([Placed(cached, 1, 1)])
    before = _render(cached.read(), tmp_path, "cached")
    after = _render(stamped, tmp_path, "stamped")
    assert len(before) == len(after) == cached.pages
    for old, new in zip(before, after, strict=True):
        margin = new.height - round(20 * MM)  # the bottom 20 mm (the sheet's margin: 20 mm)
        box = (0, 0, new.width, margin)
        assert ImageChops.difference(old.crop(box), new.crop(box)).getbbox() is None
        changed = ImageChops.difference(old, new).getbbox()
        assert changed is not None and changed[1] >= margin

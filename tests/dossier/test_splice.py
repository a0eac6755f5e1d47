"""Joining cached sheets by copying their objects as bytes (A32.1, core.dossier.splice): the
tokeniser never takes text inside a string for a reference, a stream is copied by its
/Length even when that is an indirect object, and a page that inherits its resources or keeps
its fonts in a direct dictionary is stamped like a WeasyPrint one."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader

from core.dossier.pdf import PdfRenderer, cjk_font_installed
from core.dossier.sheet_cache import CachedSheet
from core.dossier.splice import SheetFile, SpliceError, renumber, tokens
from core.dossier.stamp import Placed, Stamper


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
SHEET = _pdf({
    1: b"<< /Type /Catalog /Pages 2 0 R /Lang (zh\\055CN) >>",
    2: b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 /MediaBox [ 0 0 595 842 ]"
       b" /Resources << /Font << /F1 4 0 R >> >> >>",
    3: b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /StructParents 0 >>",
    4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    5: b"[ 6 0 R ]",
    6: b"<< /Length 7 0 R >>\nstream\n" + CONTENT + b"\nendstream",
    7: b"%d" % len(CONTENT),
    8: b"<< /Title (a \\(1 0 R\\) (9 0 R) b) /Producer <3120302052> /Creator (x) >>",
}, root=1, info=8)


def test_strings_that_look_like_references_are_not_references():
    """A string holding ``1 0 R`` (escaped or balanced parentheses) or a hex string is one
    token; only real references are renumbered."""
    body = b"<< /A (a \\(1 0 R\\) (9 0 R) b) /B <3120302052> /C 10 0 R /D [ 1 2 3 0 R ] >>"
    toks, _end = tokens(body)
    assert [t.ref for t in toks if t.kind == "ref"] == [10, 3]
    assert renumber(body, toks, {10: 100, 3: 30}) == (
        b"<< /A (a \\(1 0 R\\) (9 0 R) b) /B <3120302052> /C 100 0 R /D [ 1 2 30 0 R ] >>")


def test_a_stream_is_copied_by_its_indirect_length():
    """A stream's data is exactly /Length bytes, looked up when /Length is indirect."""
    sheet = SheetFile(SHEET)
    assert sheet.get(6).stream == CONTENT
    assert sheet.reachable([3], {2}) == [3, 5, 6, 7]


def test_a_file_not_in_the_caches_form_is_refused():
    """A file whose cross-reference table is not classic, or that was updated, is refused."""
    with pytest.raises(SpliceError):
        SheetFile(SHEET.replace(b"\nxref\n", b"\nxrex\n"))
    with pytest.raises(SpliceError):
        SheetFile(SHEET.replace(b"/Size 9", b"/Size 9 /Prev 10"))


@pytest.mark.slow
@pytest.mark.skipif(not cjk_font_installed(), reason="needs fonts-noto-cjk (.ci/run)")
def test_a_page_with_inherited_resources_is_stamped(tmp_path):
    """A32.1: the page gets its inherited resources and box, the stamp font beside its own,
    its content wrapped and followed by the stamp; its text and the stamp are extractable."""
    path = tmp_path / "sheet.pdf"
    path.write_bytes(SHEET)
    cached = CachedSheet("k" * 64, path, 1, hashlib.sha256(SHEET).hexdigest())
    stamper = Stamper(PdfRenderer(author="岳阳市住房和城乡建设局"), "岳建罚〔2026〕7号")
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

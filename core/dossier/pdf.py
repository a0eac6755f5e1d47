"""Archival PDF for the case file: HTML from a Jinja template, laid out by WeasyPrint as
PDF/A-2b with every font embedded (Noto CJK from Debian's fonts-noto-cjk), so a page can be
read in 25 years on any machine (A32.1, A34.1).

Without the CJK font the renderer falls back to reportlab with the STSong-Light CID font, which
is NOT embedded (the reader's machine supplies it): such a file is not archival, so the
fallback logs a warning and the bag says so.
"""

from __future__ import annotations

import functools
import io
import logging
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.dossier.pages import Images, Pairs, Sheet, Table

log = logging.getLogger(__name__)

CJK_FAMILY = "Noto Serif CJK SC"  # also named in templates/dossier.css
PDF_VARIANT = "pdf/a-2b"
TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered file: its bytes and how many pages each of its sheets took."""

    data: bytes
    sheet_pages: tuple[int, ...]

    @property
    def pages(self) -> int:
        """All its pages."""
        return sum(self.sheet_pages)


@dataclass
class Layout:
    """A sheet laid out: how many pages it takes (and WeasyPrint's pages when archival)."""

    sheet: Sheet
    pages: int
    document: Any = None


@functools.cache
def cjk_font_installed(family: str = CJK_FAMILY) -> bool:
    """True when fontconfig knows the CJK family (Debian: apt-get install fonts-noto-cjk)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    # fc-list is found on PATH and given a fixed pattern: no untrusted input reaches it.
    out = subprocess.run([fc_list, f":family={family}", "family"], capture_output=True,  # noqa: S603
                         text=True, timeout=30, check=False)
    return family in out.stdout


class PdfRenderer:
    """Renders sheets to PDF/A-2b with WeasyPrint, or to plain PDF with reportlab as fallback."""

    def __init__(self, *, author: str = "", prefer_archival: bool = True):
        self.author = author
        self.archival = prefer_archival and cjk_font_installed()
        if not self.archival:
            why = "is not installed" if prefer_archival else "was not asked for"
            log.warning("the CJK font %r %s (apt-get install fonts-noto-cjk): the case file "
                        "falls back to the non-embedded STSong-Light font and is NOT archival "
                        "PDF/A", CJK_FAMILY, why)
            self._fallback = _ReportlabSheets()
            return
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self._html = _sheet_html()
        self._env = Environment(loader=FileSystemLoader(TEMPLATES),
                                autoescape=select_autoescape(["html"]))
        self._template = self._env.get_template("sheet.html")
        # One font configuration for every page of the build: fonts are looked up once.
        self._fonts = FontConfiguration()
        # Signature images recur on every record: decoded once per build.
        self._images: dict = {}
        # The static style sheet is parsed once; each sheet adds only its page numbering.
        self._css = [CSS(filename=str(TEMPLATES / "dossier.css"), font_config=self._fonts)]

    @property
    def variant(self) -> str:
        """What the files are: PDF/A-2b, or plain PDF with a non-embedded font."""
        return PDF_VARIANT if self.archival else "pdf-1.4 (STSong-Light, not embedded)"

    def render(self, sheet: Sheet) -> RenderedPdf:
        """One sheet as a PDF file."""
        return self.render_part([sheet])

    def render_part(self, sheets: list[Sheet]) -> RenderedPdf:
        """Several sheets as one PDF file, each keeping its own page numbers."""
        return self.write([self.layout(s) for s in sheets])

    def layout(self, sheet: Sheet) -> Layout:
        """Lay one sheet out with its own page numbering; :meth:`write` makes files of them."""
        if not self.archival:
            return Layout(sheet, self._fallback.render_part([sheet]).pages)
        html = self._template.render(sheet=sheet, author=self.author)
        document = self._html(string=html, base_url=str(TEMPLATES)).render(
            stylesheets=self._css, font_config=self._fonts, cache=self._images)
        return Layout(sheet, len(document.pages), document)

    def write(self, layouts: list[Layout]) -> RenderedPdf:
        """Laid-out sheets as one PDF file: the CJK font is subset and embedded once per file,
        which costs more than laying a page out."""
        if not self.archival:
            return self._fallback.render_part([x.sheet for x in layouts])
        first = layouts[0].document
        combined = first.copy([page for x in layouts for page in x.document.pages])
        with warnings.catch_warnings():
            # WeasyPrint opens its sRGB output-intent profile (PDF/A) and leaves the file to
            # the garbage collector; nothing of ours leaks, so only that warning is silenced.
            warnings.filterwarnings("ignore", category=ResourceWarning,
                                    message=r".*sRGB2014\.icc")
            data = combined.write_pdf(pdf_variant=PDF_VARIANT, uncompressed_pdf=False)
        return RenderedPdf(data, tuple(x.pages for x in layouts))


@functools.cache
def _sheet_html():
    """WeasyPrint's HTML with the user-agent style sheet cut to the rules that can match the
    template's elements (templates/ua.css): the same layout, a quarter less of its time."""
    from weasyprint import CSS, HTML
    from weasyprint.html import UA_COUNTER_STYLE

    ua = CSS(filename=str(TEMPLATES / "ua.css"), counter_style=UA_COUNTER_STYLE)

    class SheetHTML(HTML):
        def _ua_stylesheets(self, forms=False):
            return [ua]

    return SheetHTML


class _ReportlabSheets:
    """The fallback: the same sheets with reportlab's platypus and the STSong-Light CID font."""

    FONT = "STSong-Light"

    def __init__(self):
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(self.FONT))

    def render_part(self, sheets: list[Sheet]) -> RenderedPdf:
        """Sheets as one plain PDF (not archival), each starting on a new page."""
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import (
            Flowable,
            Image,
            PageBreak,
            Paragraph,
            SimpleDocTemplate,
            Spacer,
            TableStyle,
        )
        from reportlab.platypus import Table as RlTable

        body = ParagraphStyle("b", fontName=self.FONT, fontSize=10, leading=14, wordWrap="CJK")
        title = ParagraphStyle("t", parent=body, fontSize=17, leading=24, alignment=1)
        head = ParagraphStyle("h", parent=body, fontSize=11.5, leading=18)
        grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")])
        width = A4[0] - 45 * mm
        starts: list[int] = []  # the page each sheet starts on

        class Start(Flowable):
            def draw(self):
                starts.append(self.canv.getPageNumber())

        def p(text: str, style=body) -> Paragraph:
            return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;"), style)

        flow: list = []
        for n, sheet in enumerate(sheets):
            if n:
                flow.append(PageBreak())
            flow += [Start(), p(sheet.title, title),
                     p(sheet.subtitle, title) if sheet.subtitle else Spacer(1, 4)]
            for block in sheet.blocks:
                if block.heading:
                    flow.append(p(block.heading, head))
                if isinstance(block, Pairs) and block.rows:
                    flow.append(RlTable([[p(a), p(b)] for a, b in block.rows],
                                        colWidths=[width * 0.28, width * 0.72], style=grid))
                elif isinstance(block, Table):
                    rows = [[p(c) for c in block.columns]]
                    rows += [[p(c) for c in r] for r in block.rows]
                    flow.append(RlTable(rows, repeatRows=1, style=grid, colWidths=[
                        width / len(block.columns)] * len(block.columns)))
                elif isinstance(block, Images):
                    for caption, _media, data in block.items:
                        flow += [Image(io.BytesIO(data), height=14 * mm, width=35 * mm),
                                 p(caption)]
        first = sheets[0].first_page

        def number(canvas, doc):
            if first:
                canvas.setFont(self.FONT, 9)
                canvas.drawCentredString(A4[0] / 2, 12 * mm,
                                         f"第 {first + canvas.getPageNumber() - 1} 页")

        out = io.BytesIO()
        doc = SimpleDocTemplate(out, pagesize=A4, title=sheets[0].title, invariant=1,
                                leftMargin=25 * mm, rightMargin=20 * mm)
        doc.build(flow, onFirstPage=number, onLaterPages=number)
        total = doc.page  # pages drawn
        ends = starts[1:] + [total + 1]
        return RenderedPdf(out.getvalue(), tuple(e - b for b, e in zip(starts, ends,
                                                                         strict=True)))

"""Filling the cache of pre-rendered sheets off the request path (A32.1).

A transaction that records, signs, refuses, approves or receives evidence for a case owes
the case's sheets: a flush listener notes the case, and after the commit the container's sheet
hooks wake the in-process worker or enqueue an rq job on the media queue (core.queues), which
runs :func:`prerender_case`. That reads the case (no proofs, no transaction open while
laying out) and lays out only the sheets whose key is not cached yet, usually the one record
just changed. Nothing depends on the job having run: the cache is an optimisation, a lost job
only means the build lays that sheet out itself (core.dossier.bag).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from core.cases.models import Approval, Evidence, Record, Refusal, Signature
from core.dossier import contents, pages
from core.dossier.bag import signature_images
from core.dossier.loader import load_case_file
from core.dossier.pdf import PdfRenderer
from core.dossier.sheet_cache import FOLDER, SheetCache
from core.dossier.stamp import glyph_sheet

log = logging.getLogger("quancheng.dossier.sheets")

OWED_KEY = "sheets_owed"  # session.info: ids of cases whose sheets this transaction changed
# The rows a sheet shows: a record made, approved, signed or refused; evidence received (or
# its checks completed).
SHOWN = (Record, Approval, Signature, Refusal, Evidence)


def note_changes(session, _flush_context=None, _instances=None) -> None:
    """Before a flush: note the cases whose sheet rows are new or changed (laid out after the
    commit; core.bootstrap.Container.uow listens with this)."""
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, SHOWN) and obj.case_id:
            session.info.setdefault(OWED_KEY, set()).add(obj.case_id)


def cache_of(runner) -> SheetCache:
    """The process's sheet cache: ``<instance>/dossier-sheets`` (core.dossier.sheet_cache)."""
    return SheetCache(Path(runner.settings.instance_path) / FOLDER)


@dataclass(frozen=True)
class Prerendered:
    """What a run did: sheets laid out now and sheets already cached."""

    rendered: int
    reused: int


_local = threading.local()


def _renderer(author: str) -> PdfRenderer:
    """One renderer per thread and department (fonts and style sheets loaded once)."""
    found = getattr(_local, "renderers", None)
    if found is None:
        found = _local.renderers = {}
    if author not in found:
        found[author] = PdfRenderer(author=author)
    return found[author]


def prerender_case(runner, case_id: str, *, cache: SheetCache | None = None,
                   renderer: PdfRenderer | None = None) -> Prerendered:
    """Lay out every sheet of the case not cached yet (the build then only stamps)."""
    with runner.uow() as uow:
        cf = load_case_file(uow.session, case_id, uow.signer, proofs=False)
    renderer = renderer or _renderer(cf.department_name)
    if not renderer.archival:  # the fallback draws its pages at build time, numbered
        return Prerendered(0, 0)
    cache = cache or cache_of(runner)
    images = signature_images(runner.blobs, cf, strict=False)
    before = (cache.rendered, cache.reused)
    for entry in contents.entries(cf):
        cache.sheet(pages.entry_sheet(cf, entry, images.get), renderer)
    cache.sheet(glyph_sheet(cf.number), renderer)  # the stamps' font (core.dossier.stamp)
    return Prerendered(cache.rendered - before[0], cache.reused - before[1])


def run_owed(runner, case_ids) -> None:
    """Pre-render the sheets of each case; a failure is logged (the build renders misses)."""
    for case_id in case_ids:
        try:
            done = prerender_case(runner, case_id)
        except Exception:  # an optimisation: never let it stop the worker
            log.warning("sheets of case %s could not be pre-rendered", case_id, exc_info=True)
            continue
        if done.rendered:
            log.info("case %s: %d sheets pre-rendered, %d cached", case_id, done.rendered,
                     done.reused)

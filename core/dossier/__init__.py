"""The case file (案卷, A32.1): the plain-data snapshot of a case and its one loader, archival
PDF pages, the BagIt bag with ledger proofs, and the offline verifier shipped in every bag.

The service layer (HTTP route, rq job, CLI, archiving, custody) builds on these: it seals the
log and loads the case in one transaction (:func:`seal_log`, :func:`load_case_file`), then
builds the bag outside it (:func:`build_bag`) and records the returned manifest hash.
"""

from core.dossier.bag import BuildResult, build_bag
from core.dossier.loader import DossierError, load_case_file, seal_log
from core.dossier.pdf import PdfRenderer
from core.dossier.snapshot import CaseFile

__all__ = ["BuildResult", "CaseFile", "DossierError", "PdfRenderer", "build_bag",
           "load_case_file", "seal_log"]

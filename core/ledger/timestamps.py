"""Trusted time for signed checkpoints: RFC 3161 timestamps from a timestamp authority (TSA_URL).

A checkpoint made while a TSA is configured gets a pending timestamp row in its own
transaction. The request is sent later, off the hot path — by the worker's housekeeping, or
`flask ledger stamp` — with no transaction open during the network call; a failure is logged
and retried with growing pauses, and never holds up a record. The token (the TimeStampResp as
the authority sent it) is stored with the checkpoint, and ``ledger verify`` checks each one:
granted status, message imprint = SHA-256 of the checkpoint's signed note, the authority's
signature, and its certificate chain to the configured CA (TSA_CA_PATH) and, when given, that
it is the configured TSA certificate (TSA_CERT_PATH).

The imprint is SHA-256 under either ledger suite: the `rfc3161-client` verifier hashes with
SHA-2 only, and the token attests the note's existence at that time whatever signs the note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.ledger.models import LedgerCheckpoint, LedgerTimestamp

log = logging.getLogger("quancheng.ledger.timestamps")

BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
TIMEOUT_S = 10.0
CONTENT_TYPE = "application/timestamp-query"


class TimestampError(Exception):
    """A token that does not verify, or an authority that did not answer usefully."""


@dataclass(frozen=True)
class Authority:
    """Where timestamps come from and what their tokens must chain to."""

    url: str
    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    tsa_certificate: x509.Certificate | None = None

    @classmethod
    def from_settings(cls, settings) -> Authority | None:
        """The configured authority (None when TSA_URL and TSA_CA_PATH are both unset)."""
        url = getattr(settings, "tsa_url", "") or ""
        ca = getattr(settings, "tsa_ca_path", "") or ""
        if not url and not ca:
            return None
        roots, intermediates = [], []
        if ca:
            for cert in x509.load_pem_x509_certificates(Path(ca).read_bytes()):
                (roots if cert.issuer == cert.subject else intermediates).append(cert)
        tsa_cert = None
        if getattr(settings, "tsa_cert_path", ""):
            tsa_cert = x509.load_pem_x509_certificate(Path(settings.tsa_cert_path).read_bytes())
        return cls(url, tuple(roots), tuple(intermediates), tsa_cert)

    def check(self, token: bytes, message: bytes):
        """The decoded response when `token` is a valid timestamp of `message`; else raise."""
        if not self.roots:
            raise TimestampError("no CA to check it against (set TSA_CA_PATH)")
        try:
            response = decode_timestamp_response(token)
        except Exception as exc:  # the Rust parser raises ValueError and friends
            raise TimestampError(f"not a timestamp response: {exc}") from None
        builder = VerifierBuilder(roots=list(self.roots), intermediates=list(self.intermediates),
                                  tsa_certificate=self.tsa_certificate)
        try:
            builder.build().verify_message(response, message)
        except VerificationError as exc:
            raise TimestampError(str(exc)) from None
        return response


def queue(session: Session, checkpoint: LedgerCheckpoint) -> LedgerTimestamp | None:
    """Queue a timestamp for a new checkpoint when a TSA is configured (same transaction)."""
    settings = session.info.get("settings")
    url = getattr(settings, "tsa_url", "") if settings is not None else ""
    if not url:
        return None
    row = LedgerTimestamp(checkpoint_id=checkpoint.id, tsa_url=url[:300], attempts=0,
                          next_try_at=checkpoint.created_at, created_at=checkpoint.created_at)
    session.add(row)
    return row


def request_token(url: str, message: bytes, post: Callable | None = None) -> bytes:
    """Ask the authority for a timestamp of `message` (SHA-256 imprint, nonce, its cert)."""
    request = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
               .nonce(nonce=True).cert_request(cert_request=True).build())
    post = post or httpx.post
    try:
        answer = post(url, content=request.as_bytes(), headers={"Content-Type": CONTENT_TYPE},
                      timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise TimestampError(f"{url} did not answer: {type(exc).__name__}: {exc}") from None
    if answer.status_code != 200:
        raise TimestampError(f"{url} answered HTTP {answer.status_code}")
    try:
        response = decode_timestamp_response(answer.content)
    except Exception as exc:  # a body that is not a TimeStampResp
        raise TimestampError(f"{url} sent no timestamp response: {exc}") from None
    if response.tst_info.nonce != request.nonce:
        raise TimestampError(f"{url} answered another request (nonce mismatch)")
    return answer.content


def stamp_pending(sessions: Callable, settings, *, limit: int = 20,
                  now: datetime | None = None, post: Callable | None = None) -> dict:
    """Fetch the due pending timestamps: read them in one short transaction, ask the authority
    with no transaction open, store each answer (or the failure and the next try) in another.
    `sessions()` opens a unit of work (core.bootstrap.Container.uow)."""
    authority = Authority.from_settings(settings)
    now = now or utcnow()
    with sessions() as uow:
        due = [(ts.id, ts.tsa_url, cp.note) for ts, cp in uow.session.execute(
            select(LedgerTimestamp, LedgerCheckpoint)
            .join(LedgerCheckpoint, LedgerCheckpoint.id == LedgerTimestamp.checkpoint_id)
            .where(LedgerTimestamp.token.is_(None), LedgerTimestamp.next_try_at <= now)
            .order_by(LedgerTimestamp.next_try_at).limit(limit))]
    out = {"stamped": 0, "failed": 0}
    for ts_id, url, note in due:
        try:
            token = request_token(url, note.encode(), post)
            response = authority.check(token, note.encode()) if authority else \
                decode_timestamp_response(token)
            error = None
        except TimestampError as exc:
            token, response, error = None, None, str(exc)
            log.warning("timestamp %s from %s failed: %s", ts_id, url, error)
        with sessions() as uow:
            row = uow.session.get(LedgerTimestamp, ts_id)
            row.attempts += 1
            if token is not None:
                row.token, row.gen_time, row.last_error = token, response.tst_info.gen_time, None
                out["stamped"] += 1
            else:
                row.last_error = error[:2000]
                pause = min(BACKOFF * (4 ** (row.attempts - 1)), MAX_BACKOFF)
                row.next_try_at = utcnow() + pause
                out["failed"] += 1
    return out


def check_timestamps(session: Session, checkpoints, roots) -> list:
    """Verify every stored token against its checkpoint's note (registered with verify)."""
    from core.ledger.verify import Damage  # verify imports this module's registration

    tokens = session.execute(select(LedgerTimestamp).where(LedgerTimestamp.token.is_not(None))
                             ).scalars().all()
    if not tokens:
        return []
    by_id = {cp.id: cp for cp in checkpoints}
    try:
        authority = Authority.from_settings(session.info.get("settings"))
    except (OSError, ValueError) as exc:
        return [Damage(None, f"timestamps cannot be checked: the TSA certificates do not load "
                             f"({exc})")]
    damages = []
    for ts in tokens:
        cp = by_id.get(ts.checkpoint_id)
        if cp is None:
            damages.append(Damage(None, f"timestamp {ts.id} is of checkpoint {ts.checkpoint_id}, "
                                        "which does not exist"))
            continue
        if authority is None:
            damages.append(Damage(None, f"timestamp of checkpoint {cp.id} cannot be checked: "
                                        "TSA_CA_PATH is not set"))
            continue
        try:
            response = authority.check(ts.token, cp.note.encode())
        except TimestampError as exc:
            damages.append(Damage(None, f"timestamp of checkpoint {cp.id} does not verify: "
                                        f"{exc}"))
            continue
        if ts.gen_time is None or response.tst_info.gen_time != ts.gen_time:
            damages.append(Damage(None, f"timestamp of checkpoint {cp.id}: stored time "
                                        f"{ts.gen_time} is not the token's "
                                        f"{response.tst_info.gen_time}"))
    return damages

"""Fuzz the evidence intake with mutated real files (A37.1: nothing a file contains may crash
or hang the server, and every rejection is a clear 4xx).

- The bulk, 20,000 mutants by default (QC_FUZZ_N raises it): the core intake service with the
  default extractor, the warm sandboxed parser pool (capture.pool) with its limits, from the
  streamed write to the stored JSON (receive, sniff, metadata in the pool, vetting, the six
  checks, assurance, the ledger's canonical JSON of the row), no database; two at a time, so
  both workers of the pool parse.
- 300 of them recorded in the database (ledger verify must still pass afterwards).
- 150 through the real HTTP endpoint with the sandboxed extractor (QC_FUZZ_HTTP), two at a time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from capture.checks import Site, weekend_only_add_working_days
from capture.sniff import TYPES
from core import ledger
from core.evidence import intake as evidence
from core.evidence import media as evidence_media
from core.kernel.errors import DomainError, UnsupportedType
from core.ledger import canonical_json
from core.people.models import Officer
from core.platform.blobs import LocalBlobStore
from tests.capture import media
from tests.evidence.support import SITE_GCJ, temp_files, upload
from tests.helpers import open_case

FUZZ_N = int(os.environ.get("QC_FUZZ_N", "20000"))
HTTP_N = int(os.environ.get("QC_FUZZ_HTTP", "150"))
DB_N = 300
MAX_CALL_S = 3.0
MAX_HTTP_S = 15.0
TZ = ZoneInfo("Asia/Shanghai")
OTHER_NAMES = ("file", "x.jpg", "x.mp4", "x.txt", "x.exe", "../../x.png", "")
APPLE = "com.apple.quicktime."
_INTERESTING = (0, 1, 7, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[tuple[str, bytes]]:
    """(file name, bytes) of a real file of every accepted type (ffmpeg ones when present)."""
    d = tmp_path_factory.mktemp("fuzz-seeds")
    created = datetime(2024, 3, 5, 2, 11, 12, tzinfo=UTC)
    out = [(f"IMG.{media.SUFFIX[k]}", media.write_image(d, k).read_bytes())
           for k in ("jpeg", "heic", "png", "webp", "tiff")]
    out += [("voice.amr", media.write_amr(d).read_bytes()),
            ("voice.awb", media.write_amr(d, frames=100, wb=True).read_bytes()),
            ("rec.wav", media.write_wav(d).read_bytes()),
            ("scan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
            ("v.mp4", media.movie_bytes(created=created, udta=[media.xyz(media.ISO6709)])),
            ("IMG.mov", media.movie_bytes(
                brand=b"qt  ", audio_rate=44100,
                udta=[media.xyz(media.ISO6709), media.loci(media.LAT, media.LON, 43.5)],
                moov_extra=[media.apple_meta({
                    APPLE + "location.ISO6709": media.ISO6709, APPLE + "make": "Apple",
                    APPLE + "creationdate": "2024-03-05T10:11:12+0800"})]))]
    if media.FFMPEG:
        stamp = {"creation_time": "2024-03-05T02:11:12Z", "location": media.ISO6709}
        for kind in ("mp4", "mov", "3gp"):
            out.append((f"VID.{kind}", media.ffmpeg_movie(d, kind, metadata=stamp).read_bytes()))
        for kind in ("m4a", "mp3", "opus", "ogg", "aac"):
            out.append((f"a.{kind}", media.ffmpeg_audio(d, kind).read_bytes()))
    return out


def _mutate(rng: random.Random, seed: bytes, other: bytes) -> bytes:
    """One to three of: bit flips, truncation, inserted or deleted bytes, an interesting
    16/32-bit word (box sizes, IFD counts, offsets), a splice with another seed."""
    data = bytearray(seed)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            break
        kind, at = rng.randrange(6), rng.randrange(len(data))
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[max(1, at):]
        elif kind == 2:
            data[at:at] = rng.randbytes(rng.choice((1, 4, 64, 512)))
        elif kind == 3:
            del data[at:at + rng.randint(1, 256)]
        elif kind == 4 and len(data) >= 4:
            at, width = min(at, len(data) - 4), rng.choice((2, 4))
            value = rng.choice(_INTERESTING) & (0xFFFF if width == 2 else 0xFFFFFFFF)
            data[at:at + width] = value.to_bytes(width, rng.choice(("big", "little")))
        else:
            data[at:] = other[rng.randrange(len(other)):]
    return bytes(data)


def _mutants(seeds, n: int, salt: str):
    per_seed = max(1, -(-n // len(seeds)))  # ceiling: at least n mutants in all
    for index, (name, seed) in enumerate(seeds):
        rng = random.Random(f"{salt}:{index}:{name}")
        for i in range(per_seed):
            name_used = rng.choice(OTHER_NAMES) if rng.random() < 0.1 else name
            other = seeds[rng.randrange(len(seeds))][1]
            yield f"{name} #{i}", name_used, _mutate(rng, seed, other)


def test_fuzz_core_intake(seeds, tmp_path: Path) -> None:
    """A37.1: 20,000 mutants through receive, inspect (metadata in the sandboxed parser pool)
    and the checks: only a clear 415 may refuse one, nothing raises anything else, no call
    takes over 3 s, every accepted item's row is valid canonical JSON for the ledger, and no
    temporary file is left behind."""
    from capture.pool import shared_pool

    blobs = LocalBlobStore(tmp_path / "blobs")
    form = evidence.parse_form({"proves": "fuzz", "method": "photo", "lat": "29.36",
                                "lon": "113.13", "accuracy": "15"})
    site, now = Site(*SITE_GCJ, datum="gcj02"), datetime.now(UTC)
    pool = shared_pool()
    assert pool.warm_up(), pool.stats
    before = dataclasses.replace(pool.stats)

    def one(item) -> tuple[str, str, float]:
        where, name, data = item
        start = time.perf_counter()
        received = evidence.receive(blobs, [data[i:i + 4096] for i in range(0, len(data), 4096)],
                                    10 << 20)
        try:
            inspected = evidence.inspect(received, name, None,
                                         extractor=evidence.sandboxed_extractor)
        except UnsupportedType as exc:
            assert exc.status == 415 and exc.message, where
            return "415", where, time.perf_counter() - start
        except Exception as exc:  # pragma: no cover - the failure being hunted
            keep = tmp_path / f"crash-{where.replace(' ', '_').replace('/', '_')}"
            keep.write_bytes(data)
            raise AssertionError(f"inspect raised {exc!r} on {where} (saved {keep})") from exc
        try:
            verdict = evidence.judge(
                inspected, form, site=site, case_opened_at=now, received_at=now,
                stored_at=now, existing_id=None,
                add_working_days=weekend_only_add_working_days, radius_m=200.0, tz=TZ)
            meta = evidence.stored_meta(inspected, form, verdict, uploaded_by="x" * 32,
                                        channel="fuzz", received_at=now)
            canonical_json({"meta": meta, "checks": [c.to_dict() for c in verdict.checks],
                            "filename": inspected.filename, "captured_at":
                                verdict.captured_at})
            json.dumps(meta, allow_nan=False)
        except Exception as exc:  # pragma: no cover - the failure being hunted
            keep = tmp_path / f"crash-{where.replace(' ', '_').replace('/', '_')}"
            keep.write_bytes(data)
            raise AssertionError(f"checks raised {exc!r} on {where} (saved {keep})") from exc
        assert inspected.verdict.mime in {t.mime for t in TYPES.values()}
        received.discard()
        kind = "unverified" if verdict.level == "unverified" else "accepted"
        return kind, where, time.perf_counter() - start

    counts = {"accepted": 0, "415": 0, "unverified": 0}
    slowest = (0.0, "")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as threads:  # as two uploads at once
        for kind, where, took in threads.map(one, _mutants(seeds, FUZZ_N, "core")):
            counts[kind] += 1
            if kind == "unverified":
                counts["accepted"] += 1
            assert took < MAX_CALL_S, f"{where} took {took:.2f} s"
            slowest = max(slowest, (took, where))
    elapsed = time.perf_counter() - started
    assert list(blobs.tmp_dir.iterdir()) == [] and list(blobs.iter_hashes()) == []
    total = counts["accepted"] + counts["415"]
    assert total >= FUZZ_N and counts["accepted"] > total // 2, counts
    after = pool.stats
    assert after.served - before.served >= counts["accepted"], (before, after)
    print(f"fuzz intake: {total} mutants in {elapsed:.0f} s through the parser pool "
          f"({after.served - before.served} parsed, {after.crashed - before.crashed} worker "
          f"crashes, {after.timed_out - before.timed_out} timeouts, "
          f"{after.recycled - before.recycled} recycled), {counts}, slowest "
          f"{slowest[0]:.3f} s ({slowest[1]})")


def test_fuzz_recorded_and_over_http(app, client, container, people, seeds) -> None:
    """A37.1: 300 mutants recorded through the core service (the ledger still verifies), and
    150 through the HTTP endpoint with the sandboxed extractor, two at a time: every answer is
    201, 200 (duplicate) or a clear 415, never a 500, none over 15 s."""
    case = open_case(client, people["officer"])
    with container.uow() as uow:
        actor_id = uow.session.get(Officer, people["officer"]["id"]).id
    recorded = 0
    for where, name, data in _mutants(seeds, DB_N, "db"):
        path = container.settings.instance_path / "mutant"
        path.write_bytes(data)
        try:
            with container.uow() as uow:
                actor = uow.session.get(Officer, actor_id)
                body = evidence.intake(uow, actor, case["id"], path=path, filename=name,
                                       declared_type=None, proves="fuzz", method="photo",
                                       channel="fuzz", extractor=evidence.inline_extractor)
            recorded += 1
            assert body["assurance"] in ("verified", "partial", "unverified", "failed"), where
        except DomainError as exc:
            assert exc.status == 415, (where, exc)
    assert recorded > DB_N // 2
    with container.uow() as uow:
        report = ledger.verify(uow.session, uow.signer, uow.blobs)
    assert report.ok, [d.message for d in report.damages][:3]

    mutants = list(_mutants(seeds, HTTP_N, "http"))

    def send(item):
        where, name, data = item
        start = time.perf_counter()
        with app.test_client() as c:
            r = upload(c, people["officer"], case["id"], data, name or "file",
                       "application/octet-stream")
        return where, r.status_code, r.get_json(), time.perf_counter() - start

    statuses: dict[int, int] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for where, status, body, took in pool.map(send, mutants):
            statuses[status] = statuses.get(status, 0) + 1
            assert status in (200, 201, 415), (where, status, body)
            assert took < MAX_HTTP_S, f"{where} took {took:.1f} s"
            if status == 415:
                assert body["error"]["code"] == "unsupported_type" and body["error"]["message"]
            else:
                assert body["assurance"] and len(body["checks"]) == 6
    # Thumbnails of the mutants go through the sandboxed pool too; none may raise.
    outcomes = evidence_media.run_due(container.uow, limit=10**6)
    assert all(o.status in ("done", "retry") for o in outcomes)
    assert [p for p in temp_files(container) if p.name.startswith("in-")] == []
    print(f"fuzz http: {len(mutants)} requests, statuses {statuses}")

"""Reproducible random inspection draws (A12.1): nobody controls the seed alone, and anyone
can re-run a draw from its record.

Algorithm "sha256-counter partial Fisher–Yates v1":

1. Before the draw the server publishes ``commitment = SHA-256(nonce)``, where the 32-byte
   ``nonce`` is HMAC-SHA256(server secret, "quancheng-draw-nonce-v1:" + commitment_id): it is
   fixed from that moment, and secret until the draw reveals it.
2. At the draw someone enters an outside value (a lottery number, an index close, dice).
3. Each register is hashed as given: SHA-256 of its canonical JSON (a list of strings, UTF-8,
   ``json.dumps(items, ensure_ascii=False, separators=(",", ":"))``).
4. ``seed = SHA-256("quancheng-draw-v1" 0x00 nonce 0x00 outside_value 0x00 objects_sha256
   0x00 officers_sha256)`` (hashes and nonce as lowercase hex text, all UTF-8).
5. A stream for a label (``objects``, ``officers``, ``redraw:1`` …) is the concatenation of
   SHA-256(seed_hex ":" label ":" counter) for counter = 0, 1, 2 … (decimal), read 8 bytes at a
   time as big-endian unsigned integers.
6. uniform(n): take the next integer x; reject it while x >= 2**64 - (2**64 mod n); return
   x mod n.
7. Draw k of a register: copy it; for i in 0..k-1: j = i + uniform(len - i); swap items i and
   j; the result is the first k items.
8. A recused officer is replaced by drawing 1 from the officers not yet drawn, in register
   order, with the stream labelled ``redraw:<n>`` (n = 1 for the first recusal).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from core.cases.models import Case, Record
from core.cases.records import insert_record
from core.cases.visibility import visible_case, writable_case
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, GateRefused, Invalid, NotFound
from core.kernel.ids import new_id
from core.people.access import log_access
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.catalogue import BY_NAME, validate_fields

ALGORITHM = "sha256-counter partial Fisher–Yates v1"
MAX_REGISTER = 10000


def register_sha256(items: list[str]) -> str:
    """SHA-256 of a register as given (canonical JSON of the list)."""
    text = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def commitment_of(nonce_hex: str) -> str:
    """The published commitment to a nonce."""
    return hashlib.sha256(bytes.fromhex(nonce_hex)).hexdigest()


def server_nonce(secret: str, commitment_id: str) -> str:
    """The nonce behind a commitment: only the holder of the server secret can compute it."""
    label = f"quancheng-draw-nonce-v1:{commitment_id}".encode()
    return hmac.new(secret.encode(), label, hashlib.sha256).hexdigest()


def make_seed(nonce_hex: str, outside_value: str, objects_sha: str, officers_sha: str) -> str:
    """Step 4: the seed from the revealed nonce, the outside value and both registers."""
    parts = ["quancheng-draw-v1", nonce_hex, outside_value, objects_sha, officers_sha]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _stream(seed: str, label: str) -> Iterator[int]:
    counter = 0
    while True:
        block = hashlib.sha256(f"{seed}:{label}:{counter}".encode()).digest()
        for i in range(0, 32, 8):
            yield int.from_bytes(block[i:i + 8], "big")
        counter += 1


def _uniform(stream: Iterator[int], n: int) -> int:
    limit = 2**64 - (2**64 % n)
    while True:
        x = next(stream)
        if x < limit:
            return x % n


def pick(items: list[str], k: int, seed: str, label: str) -> list[str]:
    """Step 7: k items of a register by partial Fisher–Yates over the labelled stream."""
    pool = list(items)
    stream = _stream(seed, label)
    for i in range(k):
        j = i + _uniform(stream, len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def rerun(fields: dict) -> dict:
    """Re-run a draw from its record's fields alone; what anyone can do to check it."""
    nonce = fields["nonce"]
    objects_sha = register_sha256(fields["objects_register"])
    officers_sha = register_sha256(fields["officers_register"])
    seed = make_seed(nonce, fields["outside_value"], objects_sha, officers_sha)
    drawn_officers = pick(fields["officers_register"], fields["officers_count"], seed, "officers")
    taken = list(drawn_officers)
    replacements = []
    for n, recused in enumerate(fields.get("recused_officers") or [], start=1):
        pool = [o for o in fields["officers_register"] if o not in taken]
        if not pool:
            break
        new = pick(pool, 1, seed, f"redraw:{n}")[0]
        taken.append(new)
        replacements.append(new)
        drawn_officers = [new if o == recused else o for o in drawn_officers]
    return {
        "commitment_ok": commitment_of(nonce) == fields["commitment"],
        "objects_register_sha256": objects_sha, "officers_register_sha256": officers_sha,
        "seed": seed,
        "drawn_objects": pick(fields["objects_register"], fields["objects_count"], seed,
                              "objects"),
        "drawn_officers": drawn_officers, "replacement_officers": replacements,
    }


def verify(fields: dict) -> dict:
    """Compare a re-run with what the record says."""
    again = rerun(fields)
    match = (again["commitment_ok"]
             and again["seed"] == fields["seed"]
             and again["objects_register_sha256"] == fields["objects_register_sha256"]
             and again["officers_register_sha256"] == fields["officers_register_sha256"]
             and again["drawn_objects"] == fields["drawn_objects"]
             and again["drawn_officers"] == fields["drawn_officers"]
             and again["replacement_officers"] == (fields.get("replacement_officers") or []))
    return {"match": match, "algorithm": fields["algorithm"], "recomputed": again}


# --- services ------------------------------------------------------------------------------

def commit(uow: UnitOfWork, actor: Officer, case_id: str) -> Record:
    """Publish the server's commitment before the draw (A12.1)."""
    case = _inspection_case(uow, actor, case_id)
    commitment_id = new_id()
    nonce = server_nonce(uow.settings.secret_key, commitment_id)
    rtype = BY_NAME["inspection_draw_commitment"]
    fields = validate_fields(rtype, {"commitment_id": commitment_id,
                                     "commitment": commitment_of(nonce),
                                     "algorithm": ALGORITHM})
    return insert_record(uow, actor, case, rtype, fields, utcnow(), [actor.id])


def draw(uow: UnitOfWork, actor: Officer, case_id: str, data: Any) -> Record:
    """Draw inspection objects and officers from the registers as given (A12.1, A14.1)."""
    case = _inspection_case(uow, actor, case_id)
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    session = uow.session
    commitment = session.get(Record, data.get("commitment_record_id") or "")
    if commitment is None or commitment.case_id != case.id \
            or commitment.type != "inspection_draw_commitment":
        raise Invalid("commitment_record_id must name a commitment published on this case",
                      details={"fields": {"commitment_record_id": "unknown"}})
    used = session.execute(select(Record).where(Record.case_id == case.id,
                                                Record.type == "inspection_draw")).scalars()
    # One commitment, one draw: otherwise the outside value could be retried until it suits.
    if any(r.fields.get("commitment_record_id") == commitment.id for r in used):
        raise Conflict("this commitment was already used by a draw; publish a new one")
    nonce = server_nonce(uow.settings.secret_key, commitment.fields["commitment_id"])
    if commitment_of(nonce) != commitment.fields["commitment"]:
        raise Conflict("the server secret changed since the commitment; publish a new one")
    objects = _register(data.get("objects_register"), "objects_register")
    officers = _register(data.get("officers_register"), "officers_register")
    _certified(session, actor, officers)
    fields = {
        "sampling_method": data.get("sampling_method"),
        "commitment_record_id": commitment.id, "commitment": commitment.fields["commitment"],
        "nonce": nonce, "outside_value": data.get("outside_value"),
        "objects_register": objects, "officers_register": officers,
        "objects_count": data.get("objects_count"), "officers_count": data.get("officers_count"),
        "algorithm": ALGORITHM,
    }
    if not isinstance(fields["outside_value"], str) or not fields["outside_value"].strip():
        raise Invalid("outside_value is required: a value no one at the server controls",
                      details={"fields": {"outside_value": "required"}, "missing": ["A12.1"]})
    for name, pool, least in (("objects_count", objects, 1), ("officers_count", officers, 2)):
        n = fields[name]
        if isinstance(n, bool) or not isinstance(n, int) or not least <= n <= len(pool):
            raise Invalid(f"{name} must be a whole number from {least} to the register's "
                          f"length {len(pool)}",
                          details={"fields": {name: "invalid"},
                                   **({"missing": ["A14.1"]} if least == 2 else {})})
    result = rerun({**fields, "seed": ""})
    fields.update({k: result[k] for k in ("objects_register_sha256", "officers_register_sha256",
                                          "seed", "drawn_objects", "drawn_officers")})
    return _save(uow, actor, case, fields)


def recuse(uow: UnitOfWork, actor: Officer, case_id: str, draw_id: str, data: Any) -> Record:
    """Replace a recused officer by a recorded re-draw; the new record corrects the old."""
    case = _inspection_case(uow, actor, case_id)
    old = uow.session.get(Record, draw_id)
    if old is None or old.case_id != case.id or old.type != "inspection_draw":
        raise NotFound(f"draw {draw_id} not found")
    if uow.session.execute(select(Record.id).where(Record.corrects_id == old.id)).first():
        raise Conflict("this draw was already superseded; recuse on the newest one")
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    officer_id, reason = data.get("officer_id"), data.get("reason")
    if officer_id not in old.fields["drawn_officers"]:
        raise Invalid("officer_id must be one of the drawn officers",
                      details={"fields": {"officer_id": "not drawn"}})
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise Invalid("reason is required (A14.1)", details={"missing": ["A14.1"]})
    fields = dict(old.fields)
    fields["recused_officers"] = [*(fields.get("recused_officers") or []), officer_id]
    fields["recusal_reasons"] = [*(fields.get("recusal_reasons") or []), reason.strip()]
    result = rerun(fields)
    if len(result["replacement_officers"]) < len(fields["recused_officers"]):
        raise GateRefused("no officer is left in the register to replace the recused one",
                          missing=["A14.1"])
    fields["drawn_officers"] = result["drawn_officers"]
    fields["replacement_officers"] = result["replacement_officers"]
    return _save(uow, actor, case, fields, corrects=old.id)


def _save(uow: UnitOfWork, actor: Officer, case: Case, fields: dict,
          corrects: str | None = None) -> Record:
    rtype = BY_NAME["inspection_draw"]
    checked = validate_fields(rtype, fields)
    return insert_record(uow, actor, case, rtype, checked, utcnow(), [actor.id], corrects)


def _inspection_case(uow: UnitOfWork, actor: Officer, case_id: str) -> Case:
    case = writable_case(uow.session, actor, case_id)
    if case.initiation != "inspection":
        raise GateRefused("random draws belong to cases started by inspection",
                          missing=["A12.1"])
    if case.stage != "initiation":
        raise GateRefused("the draw is made before the inspection starts", missing=["A12.1"])
    return case


def _register(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > MAX_REGISTER \
            or not all(isinstance(v, str) and v.strip() == v and v and len(v) <= 500
                       for v in value):
        raise Invalid(f"{name} must be a non-empty list of at most {MAX_REGISTER} names "
                      "without surrounding spaces",
                      details={"fields": {name: "invalid"}})
    if len(set(value)) != len(value):
        raise Invalid(f"{name} lists an entry twice", details={"fields": {name: "duplicate"}})
    return value


def _certified(session, actor: Officer, ids: list[str]) -> None:
    """A14.1: the officers register holds active, certified officers of the department."""
    found = session.execute(select(Officer).where(Officer.id.in_(ids))).scalars().all()
    ok = {o.id for o in found if o.department_id == actor.department_id and o.active
          and o.certificate_no}
    bad = [i for i in ids if i not in ok]
    if bad:
        raise Invalid("officers_register must list certified officers of this department: "
                      + ", ".join(bad), details={"missing": ["A14.1"]})


def verify_draw(uow: UnitOfWork, actor: Officer, case_id: str, draw_id: str, *,
                channel: str = "api") -> dict:
    """Re-run a draw of a case the officer may see from its record (A12.1); logged."""
    case = visible_case(uow.session, actor, case_id)
    record = uow.session.get(Record, draw_id) if isinstance(draw_id, str) else None
    if record is None or record.case_id != case.id or record.type != "inspection_draw":
        raise NotFound(f"draw {draw_id} not found", zh="未找到该抽取记录")
    log_access(uow.session, actor, "read", "record", record.id, channel=channel)
    return {"record_id": record.id, **verify(record.fields)}

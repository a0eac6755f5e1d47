"""The typed commands of the case use cases. A front builds one from JSON, a bot dialog or a
CLI call with ``parse`` (which checks every field with core.kernel.fields) or directly, and
hands it to one service; the service never sees raw input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.cases.images import decode_image
from core.kernel import fields as f
from core.kernel.errors import Invalid
from core.kernel.vocab import DATUMS, KINDS, PARTY_KINDS, ROUTES, STAGES


def _body(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise Invalid("the body must be a JSON object", zh="请求体须为 JSON 对象")
    return data


def _no_unknown(data: Mapping[str, Any], known: set[str], prefix: str = "") -> None:
    """Unknown fields are refused, not ignored: a misspelt field must not vanish silently."""
    extra = sorted(set(data) - known)
    if extra:
        raise Invalid.fields({f"{prefix}{k}": ("unknown_field", {}) for k in extra})


@dataclass(frozen=True)
class PartyInput:
    """The party a case concerns (当事人)."""

    name: str
    kind: str = "person"
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    legal_representative: str | None = None

    @classmethod
    def parse(cls, data: Any) -> PartyInput:
        """Check a party object."""
        data = f.mapping(data, "party", required=True)
        _no_unknown(data, {"name", "kind", "id_number", "phone", "address",
                           "legal_representative"}, "party.")
        return cls(
            name=f.text(data.get("name"), "party.name", limit=200),
            kind=f.choice(data.get("kind"), "party.kind", PARTY_KINDS, default="person"),
            id_number=f.text(data.get("id_number"), "party.id_number", limit=64, required=False),
            phone=f.text(data.get("phone"), "party.phone", limit=32, required=False),
            address=f.text(data.get("address"), "party.address", limit=300, required=False),
            legal_representative=f.text(data.get("legal_representative"),
                                        "party.legal_representative", limit=100,
                                        required=False))


@dataclass(frozen=True)
class SiteInput:
    """Where the act takes place: coordinates in their map datum, and/or an address."""

    lat: float | None = None
    lon: float | None = None
    datum: str = "wgs84"
    address: str | None = None

    @classmethod
    def parse(cls, data: Any) -> SiteInput:
        """Check a site object; lat and lon go together."""
        data = f.mapping(data, "site")
        _no_unknown(data, {"lat", "lon", "datum", "address"}, "site.")
        lat = f.coordinate(data.get("lat"), "site.lat", 90)
        lon = f.coordinate(data.get("lon"), "site.lon", 180)
        if (lat is None) != (lon is None):
            raise f.bad("site.lat" if lat is None else "site.lon", "together",
                        other="site.lon" if lat is None else "site.lat")
        return cls(lat, lon, f.choice(data.get("datum"), "site.datum", DATUMS, default="wgs84"),
                   f.text(data.get("address"), "site.address", limit=300, required=False))


@dataclass(frozen=True)
class OpenCase:
    """Open a case (A2.1 kind, A9–A12 route)."""

    kind: str
    initiation: str
    title: str
    party: PartyInput | None = None
    site: SiteInput = field(default_factory=SiteInput)
    emergency: bool = False

    @classmethod
    def parse(cls, data: Any) -> OpenCase:
        """Check the JSON of POST /cases (or a bot draft of the same shape)."""
        data = _body(data)
        _no_unknown(data, {"kind", "initiation", "title", "party", "site", "emergency"})
        party = data.get("party")
        return cls(
            kind=f.choice(data.get("kind"), "kind", KINDS),
            initiation=f.choice(data.get("initiation"), "initiation", ROUTES),
            title=f.text(data.get("title"), "title", limit=300),
            party=PartyInput.parse(party) if party else None,
            site=SiteInput.parse(data.get("site")),
            emergency=f.flag(data.get("emergency"), "emergency", default=False))


@dataclass(frozen=True)
class Transition:
    """Move a case to another stage (A3.1)."""

    to: str

    @classmethod
    def parse(cls, data: Any) -> Transition:
        """Check {"to": stage}."""
        data = _body(data)
        _no_unknown(data, {"to"})
        return cls(f.choice(data.get("to"), "to", STAGES))


@dataclass(frozen=True)
class AddRecord:
    """Add a written record of a catalogue type; ``fields`` are checked by the catalogue."""

    type: str
    fields: Mapping[str, Any]
    occurred_at: datetime | None = None
    officers: tuple[str, ...] | None = None  # None: the caller alone
    corrects: str | None = None

    @classmethod
    def parse(cls, data: Any, *, now: datetime | None = None) -> AddRecord:
        """Check the envelope of POST /cases/{id}/records (the fields are the catalogue's)."""
        data = _body(data)
        _no_unknown(data, {"type", "fields", "occurred_at", "officers", "corrects"})
        officers = data.get("officers")
        if officers is not None:
            officers = tuple(f.ident(o, "officers") for o in f.strings(officers, "officers",
                                                                        max_items=50))
        return cls(
            type=f.text(data.get("type"), "type", limit=64),
            fields=f.mapping(data.get("fields"), "fields"),
            occurred_at=f.moment(data.get("occurred_at"), "occurred_at", required=False),
            officers=officers,
            corrects=f.ident(data.get("corrects"), "corrects", required=False))


@dataclass(frozen=True)
class Decide:
    """Take the next step of an approval chain: approve, or return with the reason (A10.1)."""

    decision: str
    opinion: str = ""

    @classmethod
    def parse(cls, data: Any) -> Decide:
        """Check {"decision": "approve"|"return", "opinion": text}."""
        data = _body(data)
        _no_unknown(data, {"decision", "opinion"})
        return cls(f.choice(data.get("decision"), "decision", ("approve", "return")),
                   f.text(data.get("opinion"), "opinion", limit=4000, required=False,
                          multiline=True) or "")


SIGN_METHODS = ("signature", "fingerprint", "seal")
REFUSED = ("sign", "investigation", "evidence")
MAX_WITNESSES = 10


def _on_behalf(value: Any) -> bool:
    """The on_behalf flag of a signature, from JSON or a multipart form field."""
    if isinstance(value, str):
        value = {"true": True, "false": False, "": None}.get(value.strip().lower(), value)
    return f.flag(value, "on_behalf", default=False)


@dataclass(frozen=True)
class Sign:
    """One signer role's signature, fingerprint or seal on a record (A13.2); the image bytes
    come from a multipart part or a base64 field."""

    role: str
    method: str
    image: bytes
    signer_name: str | None = None
    signer_officer_id: str | None = None
    signed_at: datetime | None = None
    # A13.2: an officer signs for themselves; capturing another officer's signature is marked.
    on_behalf: bool = False

    @classmethod
    def parse(cls, data: Any, image: bytes | None = None) -> Sign:
        """Check the JSON (or multipart form) of a signature."""
        data = _body(data)
        _no_unknown(data, {"role", "method", "signer_name", "signer_officer_id", "image_base64",
                           "signed_at", "on_behalf"})
        return cls(
            role=f.text(data.get("role"), "role", limit=32),
            method=f.choice(data.get("method"), "method", SIGN_METHODS),
            image=image if image is not None else decode_image(data.get("image_base64")),
            signer_name=f.text(data.get("signer_name"), "signer_name", limit=100,
                               required=False),
            signer_officer_id=f.ident(data.get("signer_officer_id"), "signer_officer_id",
                                      required=False),
            signed_at=f.moment(data.get("signed_at"), "signed_at", required=False),
            on_behalf=_on_behalf(data.get("on_behalf")))


@dataclass(frozen=True)
class Witness:
    """A person present who signs to confirm a refusal (A22.2)."""

    name: str
    id_number: str
    relation: str
    signature_image: bytes

    @classmethod
    def parse(cls, data: Any, i: int) -> Witness:
        """Check one witness object."""
        w = f.mapping(data, f"witnesses[{i}]", required=True)
        try:
            return cls(f.text(w.get("name"), f"witnesses[{i}].name", limit=100),
                       f.text(w.get("id_number"), f"witnesses[{i}].id_number", limit=64),
                       f.text(w.get("relation"), f"witnesses[{i}].relation", limit=100),
                       decode_image(w.get("signature_image_base64"),
                                    f"witnesses[{i}].signature_image_base64", rule="A22.2"))
        except Invalid as exc:  # every part of a witness is what A22.2 asks for
            exc.details["missing"] = ["A22.2"]
            raise


@dataclass(frozen=True)
class Refuse:
    """A refusal to sign a record (A22.2), or to accept investigation or give evidence
    (A13.3), with witnesses or a video."""

    refused: str
    role: str
    person_name: str
    reason: str
    place: str
    at: datetime | None = None
    record_id: str | None = None
    witnesses: tuple[Witness, ...] = ()
    video_evidence_id: str | None = None

    @classmethod
    def parse(cls, data: Any, record_id: str | None = None) -> Refuse:
        """Check the JSON of a refusal; ``record_id`` from the path wins over the body's."""
        data = _body(data)
        _no_unknown(data, {"refused", "role", "person_name", "reason", "place", "at",
                           "record_id", "witnesses", "video_evidence_id"})
        record_id = record_id or f.ident(data.get("record_id"), "record_id", required=False)
        witnesses = data.get("witnesses") or []
        if not isinstance(witnesses, list) or len(witnesses) > MAX_WITNESSES:
            raise f.bad("witnesses", "too_many", limit=MAX_WITNESSES)
        return cls(
            refused=f.choice(data.get("refused"), "refused", REFUSED,
                             default="sign" if record_id else None),
            role=f.text(data.get("role"), "role", limit=32),
            person_name=f.text(data.get("person_name"), "person_name", limit=100),
            reason=f.text(data.get("reason"), "reason", limit=4000, multiline=True),
            place=f.text(data.get("place"), "place", limit=300),
            at=f.moment(data.get("at"), "at", required=False),
            record_id=record_id,
            witnesses=tuple(Witness.parse(w, i) for i, w in enumerate(witnesses)),
            video_evidence_id=f.ident(data.get("video_evidence_id"), "video_evidence_id",
                                      required=False))

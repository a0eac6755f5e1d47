"""The ledger's algorithm suites, chosen once at installation (LEDGER_ALGORITHMS):

- ``sha256-ed25519`` (default): RFC 9162 SHA-256 tree, Ed25519 checkpoint signatures;
- ``sm3-sm2`` (国密): the same tree over SM3 (GB/T 32905, OpenSSL's SM3 through hashlib) and
  SM2 signatures with SM3 (GB/T 32918, signer ID "1234567812345678" as GM/T 0009 sets by
  default), made by GmSSL through the ``gmssl_pyx`` extension.

The suite is recorded in the log head on the first entry and in every signed checkpoint; a
process configured with another suite refuses to append, sign or start (core.bootstrap).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from core.ledger import merkle

DEFAULT = "sha256-ed25519"
SM2_SIGNER_ID = b"1234567812345678"  # GM/T 0009-2012 default distinguishing identifier


class AlgorithmError(Exception):
    """An unknown suite, a key of the wrong kind, or a library the suite needs is missing."""


@dataclass(frozen=True)
class Suite:
    """A hash for leaves and tree nodes plus a signature scheme for checkpoints."""

    name: str
    hash: str
    signature: str

    @property
    def hasher(self) -> merkle.Hasher:
        """The Merkle hasher of this suite."""
        return merkle.hasher_named(self.hash)


SUITES = {
    "sha256-ed25519": Suite("sha256-ed25519", "sha256", "ed25519"),
    "sm3-sm2": Suite("sm3-sm2", "sm3", "sm2"),
}


def suite_named(name: str | None) -> Suite:
    """The suite by name; None (a log written before suites were recorded) is the default."""
    suite = SUITES.get(name or DEFAULT)
    if suite is None:
        raise AlgorithmError(f"LEDGER_ALGORITHMS={name!r} is unknown: use "
                             f"{' or '.join(SUITES)}")
    return suite


class SigningKey(Protocol):
    """A checkpoint signing key."""

    algorithm: str
    public_raw: bytes

    def sign(self, message: bytes) -> bytes:
        """The signature of the message."""

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when the signature is valid under this key's public key."""

    def public_pem(self) -> str:
        """The public key as SubjectPublicKeyInfo PEM (what auditors are given)."""


class Ed25519Key:
    """An Ed25519 key (RFC 8032) through `cryptography`."""

    algorithm = "Ed25519"

    def __init__(self, private_key: Ed25519PrivateKey):
        """Wrap a private key."""
        self.private_key = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.public_raw = self.public_key.public_bytes(serialization.Encoding.Raw,
                                                       serialization.PublicFormat.Raw)

    @classmethod
    def generate(cls) -> Ed25519Key:
        """A fresh key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> Ed25519Key:
        """Load a PKCS#8 PEM private key."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise AlgorithmError(f"{where} is not an Ed25519 private key")
        return cls(key)

    def private_pem(self) -> bytes:
        """PKCS#8 PEM."""
        return self.private_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    def public_pem(self) -> str:
        """SubjectPublicKeyInfo PEM."""
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo
                                            ).decode()

    def sign(self, message: bytes) -> bytes:
        """64-byte Ed25519 signature."""
        return self.private_key.sign(message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when valid."""
        return verify_ed25519(self.public_raw, signature, message)


def verify_ed25519(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Check an Ed25519 signature with a raw 32-byte public key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
        return True
    except Exception:  # InvalidSignature, bad key length: not valid either way
        return False


# DER of PKCS#8 / SubjectPublicKeyInfo for an SM2 key: id-ecPublicKey with the SM2 curve OID
# (1.2.156.10197.1.301), exactly as `openssl genpkey -algorithm SM2` writes them. The layouts
# have no variable part (a 32-byte scalar, a 65-byte uncompressed point), so a fixed frame is
# the whole encoding and anything else is refused.
_SM2_ALG = bytes.fromhex("301306072a8648ce3d020106082a811ccf5501822d")
_SM2_PKCS8_HEAD = bytes.fromhex("308187020100") + _SM2_ALG + bytes.fromhex("046d306b0201010420")
_SM2_PKCS8_MID = bytes.fromhex("a144034200")
_SM2_SPKI_HEAD = bytes.fromhex("3059") + _SM2_ALG + bytes.fromhex("034200")


def _gmssl():
    try:
        import gmssl_pyx
    except ImportError as exc:  # the package is in requirements.txt; say what is missing
        raise AlgorithmError("LEDGER_ALGORITHMS=sm3-sm2 needs the gmssl_pyx package "
                             "(GmSSL); install the pinned requirements") from exc
    return gmssl_pyx


class Sm2Key:
    """An SM2 key (GB/T 32918) through GmSSL; signatures are SM2 with SM3 and the default
    signer ID, stored as the 64-byte r || s."""

    algorithm = "SM2"

    def __init__(self, private: bytes | None, public: bytes):
        """Wrap a 32-byte private scalar (None: verify only) and a 64-byte public point."""
        if len(public) != 64 or (private is not None and len(private) != 32):
            raise AlgorithmError("an SM2 key is a 32-byte scalar and a 64-byte point")
        gm = _gmssl()
        try:
            gm.normalize_sm2_public_key(public)
        except gm.InvalidValueError as exc:
            raise AlgorithmError("the SM2 public key is not a point of the SM2 curve") from exc
        self._private = private
        self.public_raw = b"\x04" + public
        self._public = public

    @classmethod
    def generate(cls) -> Sm2Key:
        """A fresh key from GmSSL's generator."""
        public, private = _gmssl().sm2_key_generate()
        return cls(private, public)

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> Sm2Key:
        """Load a PKCS#8 PEM SM2 private key (as `openssl genpkey -algorithm SM2` writes)."""
        der = _pem_body(pem, "PRIVATE KEY", where)
        n_head, n_mid = len(_SM2_PKCS8_HEAD), len(_SM2_PKCS8_MID)
        if (len(der) != n_head + 32 + n_mid + 65 or not der.startswith(_SM2_PKCS8_HEAD)
                or der[n_head + 32:n_head + 32 + n_mid] != _SM2_PKCS8_MID
                or der[n_head + 32 + n_mid] != 4):
            raise AlgorithmError(f"{where} is not an SM2 PKCS#8 private key with its public key")
        key = cls(der[n_head:n_head + 32], der[n_head + 32 + n_mid + 1:])
        probe = b"quancheng key check"
        if not key.verify(key.sign(probe), probe):
            raise AlgorithmError(f"{where}: the public key does not belong to the private key")
        return key

    @classmethod
    def from_public_pem(cls, pem: bytes | str) -> Sm2Key:
        """A verify-only key from a SubjectPublicKeyInfo PEM."""
        der = _pem_body(pem.encode() if isinstance(pem, str) else pem, "PUBLIC KEY",
                        "public key")
        if len(der) != len(_SM2_SPKI_HEAD) + 65 or not der.startswith(_SM2_SPKI_HEAD) \
                or der[len(_SM2_SPKI_HEAD)] != 4:
            raise AlgorithmError("not an SM2 SubjectPublicKeyInfo")
        return cls(None, der[len(_SM2_SPKI_HEAD) + 1:])

    def private_pem(self) -> bytes:
        """PKCS#8 PEM (readable by OpenSSL 3)."""
        if self._private is None:
            raise AlgorithmError("a verify-only SM2 key has no private part")
        der = _SM2_PKCS8_HEAD + self._private + _SM2_PKCS8_MID + self.public_raw
        return _pem("PRIVATE KEY", der).encode()

    def public_pem(self) -> str:
        """SubjectPublicKeyInfo PEM (readable by OpenSSL 3)."""
        return _pem("PUBLIC KEY", _SM2_SPKI_HEAD + self.public_raw)

    def sign(self, message: bytes) -> bytes:
        """SM2-with-SM3 signature (ZA over the default signer ID) as r || s, 64 bytes."""
        if self._private is None:
            raise AlgorithmError("a verify-only SM2 key cannot sign")
        der = _gmssl().sm2_sign(self._private, self._public, message, signer_id=SM2_SIGNER_ID)
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when r || s is a valid SM2 signature of the message."""
        return verify_sm2(self._public, signature, message)


def verify_sm2(public: bytes, signature: bytes, message: bytes,
               signer_id: bytes = SM2_SIGNER_ID) -> bool:
    """Check an SM2-with-SM3 r || s signature with a 64-byte (or 65-byte 04-prefixed) point."""
    if len(public) == 65 and public[0] == 4:
        public = public[1:]
    if len(signature) != 64 or len(public) != 64:
        return False
    gm = _gmssl()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        return bool(gm.sm2_verify(public, message, der, signer_id=signer_id))
    except gm.GmsslInnerError:  # a malformed point or signature is simply not valid
        return False


def verify_signature(suite: Suite, public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Check a checkpoint signature under a suite with a raw public key (offline auditors)."""
    if suite.signature == "ed25519":
        return verify_ed25519(public_raw, signature, message)
    return verify_sm2(public_raw, signature, message)


def key_id(public_raw: bytes) -> str:
    """The key's short id: the first 16 hex digits of SHA-256 of its raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def load_key(suite: Suite, path: Path, create: bool) -> SigningKey:
    """Load the suite's PEM key, generating it (mode 0600) when allowed and absent."""
    cls = Ed25519Key if suite.signature == "ed25519" else Sm2Key
    if not path.exists():
        if not create:
            raise AlgorithmError(f"ledger signing key not found at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = cls.generate()
        path.touch(mode=0o600)
        path.write_bytes(fresh.private_pem())
    pem = path.read_bytes()
    try:
        return cls.from_pem(pem, str(path))
    except AlgorithmError:
        raise
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AlgorithmError(f"{path} is not a {cls.algorithm} private key: {exc}") from exc


def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _pem_body(pem: bytes, label: str, where: str) -> bytes:
    text = pem.decode("ascii", "replace")
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text or end not in text:
        raise AlgorithmError(f"{where} is not a PEM {label}")
    body = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except ValueError as exc:
        raise AlgorithmError(f"{where}: bad PEM body") from exc

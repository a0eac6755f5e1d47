"""Identifiers and secrets."""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_id() -> str:
    """A random, unguessable row id."""
    return uuid.uuid4().hex


def new_token() -> str:
    """A bearer token with 256 bits of randomness."""
    return "qc_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored as SHA-256 only (they are random, so no slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()

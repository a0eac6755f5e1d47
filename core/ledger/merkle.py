"""RFC 9162 (Certificate Transparency v2) Merkle tree over an append-only hash store.

Storage follows the "stored hashes" layout of Go's golang.org/x/mod/sumdb/tlog: the hash of
every complete perfect subtree is stored exactly once, in one append-only sequence. When leaf
``n`` is appended, its leaf hash is stored followed by the hashes of the perfect subtrees that
the leaf completes (one per trailing 1 bit of ``n``). Because nothing is ever rewritten, the
sequence can live in any append-only medium (a SQL table keyed by stored index, a file, a list);
this module only needs a ``HashReader`` that can fetch stored hashes by index.

Roots, inclusion proofs and consistency proofs at any past tree size are then assembled from
O(log n) perfect-subtree hashes (O(log^2 n) in the worst case), each fetched in one batch read.

Hashing is RFC 9162 section 2.1.1: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r),
empty tree = SHA-256(""). The 0x00/0x01 prefixes keep a leaf from ever being passed off as an
interior node (second-preimage defence). Every function takes an optional ``hasher``: the same
construction over another 32-byte hash, SM3 (GB/T 32905) for the 国密 option; SHA-256 is the
default and the only one RFC 9162 defines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "SHA256",
    "HashReader",
    "Hasher",
    "hasher_named",
    "MemoryHashStore",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaves",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_for_leaf",
    "tree_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""Root hash of the tree with no leaves: SHA-256 of the empty string (RFC 9162 2.1.1)."""


class Hasher:
    """The RFC 9162 leaf/node construction over one 32-byte hash function."""

    def __init__(self, name: str):
        """Bind to a hashlib algorithm by name ("sha256", "sm3")."""
        if name == "sha256":
            new = _sha256
        else:
            try:
                hashlib.new(name)
            except ValueError as exc:  # OpenSSL built without it
                raise ValueError(f"hash {name!r} is not available in this OpenSSL") from exc

            def new(data: bytes = b"", _name: str = name):
                return hashlib.new(_name, data)
        if new(b"").digest_size != HASH_SIZE:
            raise ValueError(f"hash {name!r} does not give {HASH_SIZE} bytes")
        self.name = name
        self.new = new
        self.empty_root: bytes = new(b"").digest()

    def leaf(self, data: bytes) -> bytes:
        """H(0x00 || data)."""
        h = self.new(_LEAF_PREFIX)
        h.update(data)
        return h.digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        """H(0x01 || left || right)."""
        return self.new(_NODE_PREFIX + left + right).digest()

    def __repr__(self) -> str:
        """Its name."""
        return f"Hasher({self.name!r})"


SHA256 = Hasher("sha256")
_HASHERS: dict[str, Hasher] = {"sha256": SHA256}


def hasher_named(name: str) -> Hasher:
    """The hasher for "sha256" or "sm3" (created once)."""
    if name not in _HASHERS:
        if name != "sm3":
            raise ValueError(f"unknown ledger hash {name!r}: use sha256 or sm3")
        _HASHERS[name] = Hasher(name)
    return _HASHERS[name]


def __getattr__(name: str):
    # SM3 is created on first use: an OpenSSL without it must not break the SHA-256 default.
    if name == "SM3":
        return hasher_named("sm3")
    raise AttributeError(name)


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data)."""
    # update() rather than concatenation: leaf payloads may be large and need not be copied.
    h = _sha256(_LEAF_PREFIX)
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    # Concatenating 65 bytes is cheaper than three update() calls; this is the hot path.
    return _sha256(_NODE_PREFIX + left + right).digest()


@runtime_checkable
class HashReader(Protocol):
    """Source of stored hashes, addressed by stored index (see ``stored_hash_index``)."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, in the same order."""
        ...


def _is_size(value: object) -> bool:
    # bool is an int subclass; True/False as a tree size is always a caller bug.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and len(value) == HASH_SIZE


def _require_size(name: str, value: object) -> int:
    if not _is_size(value):
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return value  # type: ignore[return-value]


def _require_hash(name: str, value: object) -> bytes:
    if not _is_hash(value):
        raise ValueError(f"{name} must be {HASH_SIZE} bytes, got {value!r:.80}")
    return bytes(value)  # type: ignore[arg-type]


def stored_hash_index(level: int, n: int) -> int:
    """Return the stored index of the hash of the n-th perfect subtree at ``level``."""
    _require_size("level", level)
    _require_size("n", n)
    # The subtree's hash is stored right after its last leaf's own entries: last leaf m is
    # preceded by stored_hash_count(m) hashes, then the leaf hash (level 0), then one hash per
    # level completed by m, in increasing level.
    m = ((n + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def stored_hash_count(n: int) -> int:
    """Return how many stored hashes a tree of ``n`` leaves has."""
    _require_size("n", n)
    # n leaf hashes plus one per complete perfect subtree of size >= 2: sum(n >> k, k >= 1),
    # which is n - popcount(n).
    return 2 * n - n.bit_count()


def _read(reader: HashReader, indexes: list[int]) -> list[bytes]:
    """Batch-read stored hashes, refusing anything that is not a 32-byte hash."""
    if not indexes:
        return []
    hashes = reader.read_hashes(indexes)
    # A short or corrupt read from the persistence layer must not turn into a wrong root that
    # a checkpoint would then sign, so validate rather than trust.
    if len(hashes) != len(indexes):
        raise ValueError(f"HashReader returned {len(hashes)} hashes for {len(indexes)} indexes")
    out: list[bytes] = []
    for index, h in zip(indexes, hashes, strict=True):
        if not _is_hash(h):
            raise ValueError(f"HashReader returned a malformed hash for stored index {index}")
        out.append(bytes(h))
    return out


def stored_hashes_for_leaf(n: int, leaf: bytes, reader: HashReader,
                           hasher: Hasher = SHA256) -> list[bytes]:
    """Return the stored hashes to append when adding leaf ``n`` (0-based) with hash ``leaf``."""
    _require_size("n", n)
    h = _require_hash("leaf", leaf)
    # Leaf n completes one perfect subtree per trailing 1 bit of n; the left sibling at each
    # level is already stored. Trailing ones of n == trailing zeros of n + 1.
    completed = ((n + 1) & -(n + 1)).bit_length() - 1
    siblings = _read(
        reader, [stored_hash_index(level, (n >> level) - 1) for level in range(completed)]
    )
    out = [h]
    node = hasher.node
    for sibling in siblings:
        h = node(sibling, h)
        out.append(h)
    return out


def _subtree_indexes(lo: int, hi: int) -> list[int]:
    """Stored indexes of the maximal aligned perfect subtrees covering leaves [lo, hi)."""
    out: list[int] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo:
            # A perfect subtree at level L must start on a multiple of 2**L.
            level = min(level, (lo & -lo).bit_length() - 1)
        out.append(stored_hash_index(level, lo >> level))
        lo += 1 << level
    return out


def _fold(hashes: list[bytes], hasher: Hasher = SHA256) -> bytes:
    """Combine left-to-right perfect subtrees into the RFC 9162 hash of their union."""
    # Valid because every range we fold is an RFC subtree [lo, hi) with lo aligned to a power
    # of two >= hi - lo, so its pieces shrink left to right and MTH nests to the right.
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = hasher.node(left, h)
    return h


def _resolve(ranges: list[tuple[int, int]], reader: HashReader,
             hasher: Hasher = SHA256) -> list[bytes]:
    """Hash each leaf range with a single batch read of all the stored hashes involved."""
    plans = [_subtree_indexes(lo, hi) for lo, hi in ranges]
    flat = _read(reader, [i for plan in plans for i in plan])
    out: list[bytes] = []
    pos = 0
    for plan in plans:
        out.append(_fold(flat[pos : pos + len(plan)], hasher))
        pos += len(plan)
    return out


def _split(size: int) -> int:
    """Largest power of two strictly less than ``size`` (size >= 2), the RFC's k."""
    return 1 << ((size - 1).bit_length() - 1)


def tree_hash(n: int, reader: HashReader, hasher: Hasher = SHA256) -> bytes:
    """Return the root hash of the tree made of the first ``n`` leaves."""
    _require_size("n", n)
    if n == 0:
        return hasher.empty_root
    return _resolve([(0, n)], reader, hasher)[0]


def inclusion_proof(tree_size: int, index: int, reader: HashReader,
                    hasher: Hasher = SHA256) -> list[bytes]:
    """Return the RFC 9162 2.1.3.1 inclusion proof of leaf ``index`` in the first ``tree_size``."""
    _require_size("tree_size", tree_size)
    _require_size("index", index)
    if index >= tree_size:
        raise ValueError(f"leaf index {index} is not in a tree of size {tree_size}")
    # Walk PATH(m, D[lo:hi]) top-down, noting the sibling range at each split; the RFC lists
    # them bottom-up (leaf to root), hence the reverse.
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return _resolve(ranges, reader, hasher)


def consistency_proof(old_size: int, new_size: int, reader: HashReader,
                      hasher: Hasher = SHA256) -> list[bytes]:
    """Return the RFC 9162 2.1.4.1 consistency proof from tree size ``old_size`` to ``new_size``."""
    _require_size("old_size", old_size)
    _require_size("new_size", new_size)
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size == 0:
        # RFC 9162 defines PROOF(m, D[n]) only for 0 < m; every tree extends the empty tree, so
        # there is nothing to prove and verify_consistency rejects size 0 accordingly.
        raise ValueError("no consistency proof exists from the empty tree (old_size must be > 0)")
    # Walk SUBPROOF(m, D[lo:hi], b) top-down; m is relative to lo. Reversed at the end because
    # the RFC emits the innermost subproof first.
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    if not complete:
        # The old tree's boundary falls inside this subtree: its root is a proof node. When the
        # old tree is exactly this subtree (complete=True) the verifier already has its root.
        ranges.append((lo, hi))
    ranges.reverse()
    return _resolve(ranges, reader, hasher)


def _as_hash_list(proof: object, max_len: int) -> list[bytes] | None:
    """The proof as a list of at most ``max_len`` 32-byte hashes, or None if it is not one."""
    # str/bytes are Sequences too, but never valid proofs: their items fail _is_hash below.
    # The length cap is checked first so oversized input is rejected without touching it.
    if not isinstance(proof, Sequence) or len(proof) > max_len:
        return None
    out: list[bytes] = []
    for item in proof:
        if not _is_hash(item):
            return None
        out.append(bytes(item))
    return out


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes,
    hasher: Hasher = SHA256,
) -> bool:
    """Return whether ``proof`` shows leaf hash ``leaf`` at ``index`` under ``root`` (2.1.3.2)."""
    if not (_is_size(index) and _is_size(tree_size) and index < tree_size):
        return False
    if not (_is_hash(leaf) and _is_hash(root)):
        return False
    # A valid path has at most ceil(log2(size)) <= bit_length(size) nodes.
    path = _as_hash_list(proof, tree_size.bit_length())
    if path is None:
        return False
    fn, sn = index, tree_size - 1
    r = bytes(leaf)
    node_hash = hasher.node
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip levels where this node is the last (unpaired) one: it is promoted unchanged.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes(root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes],
    hasher: Hasher = SHA256,
) -> bool:
    """Return whether ``proof`` shows the ``old_size`` tree is a prefix of the ``new_size`` one."""
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    if old_size == 0:
        # No proof exists from the empty tree (RFC 9162 requires 0 < m); see consistency_proof.
        return False
    # A valid path has at most about 2 * log2(new_size) nodes (one or two per level).
    path = _as_hash_list(proof, 2 * new_size.bit_length())
    if old_size == new_size:
        # Same size: consistent iff the roots are identical and nothing else is offered. The
        # RFC 9162 vectors require accepting this without checking the root length, since no
        # hashing happens; whether a root is genuine is the signed checkpoint's concern.
        return (
            path == []
            and isinstance(old_root, (bytes, bytearray))
            and isinstance(new_root, (bytes, bytearray))
            and bytes(old_root) == bytes(new_root)
        )
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not path:
        # An empty proof cannot link two different sizes (RFC 9162 2.1.4.2 step 1).
        return False
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect subtree of the new one, so the RFC omits its root.
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    node_hash = hasher.node
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == bytes(old_root) and sr == bytes(new_root)


def root_from_leaves(leaf_hashes: Sequence[bytes], hasher: Hasher = SHA256) -> bytes:
    """Return the RFC 9162 root of ``leaf_hashes`` by direct recursion (reference, small trees)."""
    leaves = [_require_hash("leaf hash", h) for h in leaf_hashes]
    if not leaves:
        return hasher.empty_root

    # Deliberately the textbook MTH definition, sharing no code with the stored-hash path, so
    # that tests comparing the two are meaningful.
    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        k = _split(hi - lo)
        return hasher.node(mth(lo, lo + k), mth(lo + k, hi))

    return mth(0, len(leaves))


class MemoryHashStore:
    """In-memory append-only stored-hash log implementing ``HashReader``."""

    def __init__(self, hasher: Hasher = SHA256) -> None:
        """Create an empty store."""
        self._hashes: list[bytes] = []
        self._size = 0
        self.hasher = hasher

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append_leaf(self, leaf_hash: bytes) -> int:
        """Append a leaf by its leaf hash and return its 0-based index."""
        n = self._size
        self._hashes.extend(stored_hashes_for_leaf(n, leaf_hash, self, self.hasher))
        self._size = n + 1
        return n

    def root(self) -> bytes:
        """Return the root hash of the whole tree."""
        return tree_hash(self._size, self, self.hasher)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, in the same order."""
        hashes = self._hashes
        count = len(hashes)
        out: list[bytes] = []
        for i in indexes:
            # Explicit bounds check: a negative index would silently read from the end.
            if not 0 <= i < count:
                raise IndexError(f"stored hash index {i} out of range (have {count})")
            out.append(hashes[i])
        return out


class CompactTree:
    """The right edge of a growing tree (one perfect subtree per set bit of the size): what a
    streaming verifier keeps instead of every stored hash, O(log n) memory.

    ``append`` returns the stored hashes the leaf adds, exactly as ``stored_hashes_for_leaf``
    would, so they can be compared with a stored-hash table read in the same order."""

    def __init__(self, hasher: Hasher = SHA256) -> None:
        """Start with the empty tree."""
        self.hasher = hasher
        self.size = 0
        self._edge: list[bytes] = []  # perfect subtree roots, largest (leftmost) first

    def append(self, leaf: bytes) -> list[bytes]:
        """Add a leaf hash; return the stored hashes it completes (leaf hash first)."""
        n, h, edge, node = self.size, leaf, self._edge, self.hasher.node
        out = [h]
        while n & 1:
            h = node(edge.pop(), h)
            out.append(h)
            n >>= 1
        edge.append(h)
        self.size += 1
        return out

    def extend(self, leaves: Sequence[bytes]) -> list[bytes]:
        """Add leaf hashes in order; return the stored hashes they complete, in order (what
        ``append`` returns for each, one list)."""
        n, edge, new = self.size, self._edge, self.hasher.new
        out: list[bytes] = []
        push, pop, keep = out.append, edge.pop, edge.append
        for h in leaves:
            push(h)
            m = n
            while m & 1:
                h = new(_NODE_PREFIX + pop() + h).digest()  # hasher.node, without its call
                push(h)
                m >>= 1
            keep(h)
            n += 1
        self.size = n
        return out

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves appended so far."""
        if not self._edge:
            return self.hasher.empty_root
        return _fold(self._edge, self.hasher)

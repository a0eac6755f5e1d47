"""The offline verifier on its own: it imports nothing but the standard library and
`cryptography`, and its RFC 9162 checks agree with the ledger's on random trees."""

from __future__ import annotations

import ast
import random
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.dossier import verify
from core.ledger import merkle

SOURCE = Path(verify.__file__)


def test_the_verifier_imports_only_the_standard_library_and_cryptography():
    """A court's machine has Python and `cryptography`; the verifier needs nothing else."""
    tree = ast.parse(SOURCE.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert modules - {"__future__", "cryptography"} <= set(sys.stdlib_module_names)
    assert "cryptography" in modules


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), seed=st.integers(0, 2**32))
def test_inclusion_and_consistency_agree_with_the_ledger(size, seed):
    """RFC 9162 2.1.3 and 2.1.4: every proof the ledger makes is accepted, and a proof against
    another root or index is refused, by the verifier's own copy of the algorithms."""
    rnd = random.Random(seed)
    store = merkle.MemoryHashStore()
    for i in range(size):
        store.append_leaf(merkle.leaf_hash(f"leaf {i} {seed}".encode()))
    root = store.root()
    index = rnd.randrange(size)
    leaf = store.read_hashes([merkle.stored_hash_index(0, index)])[0]
    proof = merkle.inclusion_proof(size, index, store)
    assert verify.verify_inclusion(leaf, index, size, proof, root)
    assert not verify.verify_inclusion(leaf, index, size, proof, merkle.leaf_hash(b"x"))
    if size > 1:
        assert not verify.verify_inclusion(leaf, (index + 1) % size, size, proof, root)
    old = rnd.randint(1, size)
    old_root = merkle.tree_hash(old, store)
    cproof = merkle.consistency_proof(old, size, store)
    assert verify.verify_consistency(old, size, old_root, root, cproof)
    assert merkle.verify_consistency(old, size, old_root, root, cproof)
    if old < size:
        assert not verify.verify_consistency(old, size, merkle.leaf_hash(b"y"), root, cproof)
    assert verify.leaf_hash(b"abc") == merkle.leaf_hash(b"abc")


def test_a_file_that_is_not_a_bag_fails_in_both_languages(tmp_path, capsys):
    """Garbage in: exit code 1 and a verdict in Chinese and English naming the file."""
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    assert verify.main([str(junk)]) == 1
    out = capsys.readouterr().out
    assert "不通过" in out and "FAIL" in out and str(junk) in out
    assert verify.main([]) == 2

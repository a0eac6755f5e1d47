"""A37.1 (issue 12, 国密): the ledger's suites. SM3 against GB/T 32905 (Appendix A), SM2 against
the signature example of GB/T 32918.5 (Annex A, on the recommended curve: gmssl_pyx has no
parameters for Part 2's example curve), OpenSSL interoperability of keys and signatures, and
the RFC 9162 tree over SM3."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from core.ledger import merkle
from core.ledger.algorithms import (
    SM2_SIGNER_ID,
    AlgorithmError,
    Ed25519Key,
    Sm2Key,
    load_key,
    suite_named,
    verify_signature,
    verify_sm2,
)

# GB/T 32905-2016 Appendix A.
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_512 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

# GB/T 32918.5-2017 Annex A (= GM/T 0003.5-2012 A.2): message "message digest", signer ID
# "1234567812345678", on the recommended SM2 curve.
D_A = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
X_A = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
Y_A = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
Z_A = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
# The recommended curve's a, b and base point (GB/T 32918.5 Chapter 3).
CURVE_A = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
CURVE_B = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
G_X = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
G_Y = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
PUBLIC = bytes.fromhex(X_A + Y_A)
MESSAGE = b"message digest"


def test_sm3_vectors_of_gb_t_32905():
    """A37.1 国密: OpenSSL's SM3 through hashlib gives the standard's two example digests, and
    the ledger's SM3 hasher is RFC 9162's construction over it."""
    assert hashlib.new("sm3", b"abc").hexdigest() == SM3_ABC
    assert hashlib.new("sm3", b"abcd" * 16).hexdigest() == SM3_512
    sm3 = suite_named("sm3-sm2").hasher
    assert sm3.empty_root == hashlib.new("sm3", b"").digest()
    assert sm3.leaf(b"abc") == hashlib.new("sm3", b"\x00abc").digest()
    assert sm3.node(b"\x01" * 32, b"\x02" * 32) == hashlib.new(
        "sm3", b"\x01" + b"\x01" * 32 + b"\x02" * 32).digest()


def test_sm2_example_of_gb_t_32918_5_verifies():
    """A37.1 国密: the standard's signature (r, s) of "message digest" verifies under its public
    key with the default signer ID; Z_A and e computed with SM3 are the standard's; a changed
    message, signature, key or signer ID does not verify."""
    entl = (len(SM2_SIGNER_ID) * 8).to_bytes(2, "big")
    z = hashlib.new("sm3", entl + SM2_SIGNER_ID + bytes.fromhex(
        CURVE_A + CURVE_B + G_X + G_Y + X_A + Y_A)).hexdigest().upper()
    assert z == Z_A
    assert hashlib.new("sm3", bytes.fromhex(Z_A) + MESSAGE).hexdigest().upper() == E
    signature = bytes.fromhex(R + S)
    assert verify_sm2(PUBLIC, signature, MESSAGE)
    assert verify_sm2(b"\x04" + PUBLIC, signature, MESSAGE)
    assert not verify_sm2(PUBLIC, signature, b"message digesT")
    assert not verify_sm2(PUBLIC, bytes.fromhex(R + S[:-1] + "B"), MESSAGE)
    assert not verify_sm2(PUBLIC, signature, MESSAGE, signer_id=b"ALICE123@YAHOO.COM")
    other = Sm2Key.generate()
    assert not verify_sm2(other.public_raw, signature, MESSAGE)


def test_sm2_example_key_pair_signs_what_its_public_key_verifies():
    """A37.1 国密: the standard's private key d_A belongs to its public key (the PEM loader signs
    and verifies a probe), and its fresh signatures verify."""
    key = Sm2Key(bytes.fromhex(D_A), PUBLIC)
    loaded = Sm2Key.from_pem(key.private_pem(), "example")
    sig = loaded.sign(MESSAGE)
    assert len(sig) == 64 and verify_sm2(PUBLIC, sig, MESSAGE)
    wrong = Sm2Key(bytes.fromhex(D_A), Sm2Key.generate().public_raw[1:])
    with pytest.raises(AlgorithmError, match="does not belong"):
        Sm2Key.from_pem(wrong.private_pem(), "mismatched")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is absent")
def test_sm2_keys_and_signatures_interoperate_with_openssl(tmp_path):
    """A37.1 国密: a key made by `openssl genpkey -algorithm SM2` loads; our public key PEM is
    OpenSSL's; OpenSSL verifies our checkpoint signature (SM3, default signer ID) — what an
    auditor without Python does."""
    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", "k.pem"], cwd=tmp_path,
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"],
                   cwd=tmp_path, check=True, capture_output=True)
    key = load_key(suite_named("sm3-sm2"), tmp_path / "k.pem", create=False)
    assert key.public_pem() == (tmp_path / "pub.pem").read_text()
    assert Sm2Key.from_public_pem(key.public_pem()).public_raw == key.public_raw
    note = b"quancheng\n7\nAAAA\nalgorithms sm3-sm2\n"
    sig = key.sign(note)
    (tmp_path / "note").write_bytes(note)
    (tmp_path / "sig").write_bytes(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                                        int.from_bytes(sig[32:], "big")))
    ok = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem",
                         "-rawin", "-in", "note", "-sigfile", "sig", "-digest", "sm3",
                         "-pkeyopt", f"distid:{SM2_SIGNER_ID.decode()}"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    (tmp_path / "note").write_bytes(note + b"x")
    bad = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem",
                          "-rawin", "-in", "note", "-sigfile", "sig", "-digest", "sm3",
                          "-pkeyopt", f"distid:{SM2_SIGNER_ID.decode()}"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0


def test_key_files_are_made_once_and_refused_across_suites(tmp_path):
    """A37.1: a missing key is generated (mode 0600) when allowed; an Ed25519 file is not an SM2
    key and the reverse; without permission to create, a missing key is an error."""
    sm2_path, ed_path = tmp_path / "sm2.pem", tmp_path / "ed.pem"
    sm2 = load_key(suite_named("sm3-sm2"), sm2_path, create=True)
    ed = load_key(suite_named("sha256-ed25519"), ed_path, create=True)
    assert sm2_path.stat().st_mode & 0o777 == 0o600
    assert load_key(suite_named("sm3-sm2"), sm2_path, create=False).public_raw == sm2.public_raw
    assert isinstance(ed, Ed25519Key)
    with pytest.raises(AlgorithmError):
        load_key(suite_named("sm3-sm2"), ed_path, create=False)
    with pytest.raises(AlgorithmError):
        load_key(suite_named("sha256-ed25519"), sm2_path, create=False)
    with pytest.raises(AlgorithmError, match="not found"):
        load_key(suite_named("sm3-sm2"), tmp_path / "none.pem", create=False)
    with pytest.raises(AlgorithmError, match="unknown"):
        suite_named("sha1-rsa")
    sig = sm2.sign(b"x")
    assert verify_signature(suite_named("sm3-sm2"), sm2.public_raw, sig, b"x")
    assert verify_signature(suite_named("sha256-ed25519"), ed.public_raw, ed.sign(b"x"), b"x")
    assert not verify_signature(suite_named("sha256-ed25519"), ed.public_raw, sig, b"x")


@pytest.mark.parametrize("name", ["sha256", "sm3"])
def test_tree_proofs_and_compact_tree_under_each_hash(name):
    """A37.1: the stored-hash tree, the textbook recursion and the compact right edge agree
    under SHA-256 and SM3; proofs verify under the same hash only."""
    hasher = merkle.hasher_named(name)
    other = merkle.hasher_named("sm3" if name == "sha256" else "sha256")
    rng = random.Random(7)
    leaves = [hasher.leaf(rng.randbytes(rng.randrange(0, 40))) for _ in range(70)]
    store, compact = merkle.MemoryHashStore(hasher), merkle.CompactTree(hasher)
    for n, leaf in enumerate(leaves, start=1):
        stored = merkle.stored_hashes_for_leaf(n - 1, leaf, store, hasher)
        store.append_leaf(leaf)
        assert compact.append(leaf) == stored
        assert compact.root() == store.root() == merkle.root_from_leaves(leaves[:n], hasher)
    root = store.root()
    assert root != merkle.root_from_leaves(leaves, other)
    for index in (0, 33, 69):
        proof = merkle.inclusion_proof(70, index, store, hasher)
        assert merkle.verify_inclusion(leaves[index], index, 70, proof, root, hasher)
        assert not merkle.verify_inclusion(leaves[index], index, 70, proof, root, other)
    old = merkle.tree_hash(21, store, hasher)
    proof = merkle.consistency_proof(21, 70, store, hasher)
    assert merkle.verify_consistency(21, 70, old, root, proof, hasher)
    assert merkle.CompactTree(hasher).root() == hasher.empty_root

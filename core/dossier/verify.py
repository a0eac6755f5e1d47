#!/usr/bin/env python3
"""Offline verifier of a Quancheng case file (案卷): ``python verify.py BAG.zip``.

Needs only Python 3.11+ and the ``cryptography`` package (for Ed25519); it imports nothing of
Quancheng, so a court, a reviewing body or a lawyer can run it on their own machine. It checks:

1. the BagIt manifests (payload and tag files, RFC 8493) and the Payload-Oxum;
2. the agency key's signature over the payload manifest;
3. every signed checkpoint and its RFC 9162 consistency proof to the newest one;
4. every ledger entry: its leaf document rebuilt from the record data in the bag, its leaf hash
   and its RFC 9162 inclusion proof;
5. every evidence original and signature image against the hash the ledger logged;
6. that the catalogue (卷内文件目录) lists exactly the documents present, in time order.

It prints a verdict in Chinese and in English naming each failure by file, and exits 0 when
the bag is intact, 1 when it is not. Compare the printed public-key fingerprint with the one
the agency publishes: the bag proves itself only relative to that key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

FORMAT = "quancheng-dossier/1"
CHUNK = 1024 * 1024
MAX_READ = 256 * 1024 * 1024  # JSON and tag files are read whole; originals only streamed


@dataclass
class Failure:
    """One problem, with the bag file it concerns."""

    file: str
    zh: str
    en: str


@dataclass
class Report:
    """What verification found."""

    bag: str
    case_number: str = ""
    key_fingerprint: str = ""
    entries: int = 0
    documents: int = 0
    files: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def fail(self, file: str, zh: str, en: str) -> None:
        """Note a failure concerning one file."""
        self.failures.append(Failure(file, zh, en))

    def text(self) -> str:
        """The verdict, in Chinese then in English."""
        n = len(self.failures)
        lines = [f"案卷 {self.case_number or '?'} 核验结论："
                 + ("通过" if self.ok else f"不通过（{n} 项问题）")]
        lines += [f"  ✗ {f.file}：{f.zh}" for f in self.failures]
        lines.append(f"  已核验 {self.files} 个文件、{self.entries} 条账本记录、"
                     f"{self.documents} 件卷内文件。")
        lines.append(f"  账本公钥指纹（SHA-256）：{self.key_fingerprint or '无法读取'}，"
                     "请与本单位公布的指纹核对。")
        lines.append("")
        lines.append(f"Case file {self.case_number or '?'} verdict: "
                     + ("PASS" if self.ok else f"FAIL ({n} problem{'s' if n != 1 else ''})"))
        lines += [f"  x {f.file}: {f.en}" for f in self.failures]
        lines.append(f"  Checked {self.files} files, {self.entries} ledger entries, "
                     f"{self.documents} documents.")
        lines.append(f"  Ledger public key fingerprint (SHA-256): "
                     f"{self.key_fingerprint or 'unreadable'}; compare it with the one the "
                     "agency publishes.")
        return "\n".join(lines)


# --- RFC 9162 Merkle tree verification (section 2.1) -------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
                     ) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` place ``leaf`` at ``index`` under ``root``?"""
    if not (0 <= index < size) or len(proof) > size.bit_length():
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: is the ``old``-leaf tree a prefix of the ``new``-leaf one?"""
    if old <= 0 or old > new or len(proof) > 2 * new.bit_length():
        return False
    if old == new:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def canonical(obj) -> bytes:
    """The ledger's canonical JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


# --- the bag ----------------------------------------------------------------------------------


class _Bag:
    """The zip's members under its one top folder, hashed once."""

    def __init__(self, zf: zipfile.ZipFile, report: Report):
        self.zf, self.report = zf, report
        tops = {n.split("/", 1)[0] for n in zf.namelist()}
        self.root = tops.pop() if len(tops) == 1 else ""
        if not self.root:
            report.fail("(zip)", "压缩包应只有一个顶层目录（BagIt 包）",
                        "the zip must hold exactly one top folder (the BagIt bag)")
        self.infos = {n[len(self.root) + 1:]: i for n, i in
                      ((i.filename, i) for i in zf.infolist()) if not i.is_dir() and self.root}
        self.sha: dict[str, str | None] = {}
        self.size: dict[str, int] = {}
        for path, info in self.infos.items():
            self.sha[path] = self._hash(path, info)
            self.size[path] = info.file_size
        report.files = len(self.infos)

    def _hash(self, path: str, info: zipfile.ZipInfo) -> str | None:
        h = hashlib.sha256()
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            self.report.fail(path, f"无法读取（压缩包已损坏：{exc}）",
                             f"cannot be read (damaged zip: {exc})")
            return None
        return h.hexdigest()

    def read(self, path: str) -> bytes | None:
        """A small member's bytes, or None (with a failure) when absent or unreadable."""
        info = self.infos.get(path)
        if info is None:
            self.report.fail(path, "缺失", "is missing")
            return None
        if self.sha.get(path) is None:
            return None
        if info.file_size > MAX_READ:
            self.report.fail(path, "文件过大，不是本系统生成的数据文件",
                             "is too large to be a data file this system writes")
            return None
        return self.zf.read(info)

    def json(self, path: str):
        """A member parsed as JSON, or None (with a failure)."""
        data = self.read(path)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            self.report.fail(path, f"不是有效的 JSON：{exc}", f"is not valid JSON: {exc}")
            return None


def _manifest(bag: _Bag, name: str) -> dict[str, str]:
    """A BagIt manifest as {path: sha256}; malformed lines are failures of the manifest."""
    data = bag.read(name)
    out: dict[str, str] = {}
    if data is None:
        return out
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        bag.report.fail(name, "不是 UTF-8 文本", "is not UTF-8 text")
        return out
    for n, line in enumerate(text.splitlines(), start=1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            bag.report.fail(name, f"第 {n} 行格式错误", f"line {n} is malformed")
            continue
        path = path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        if path in out:
            bag.report.fail(name, f"第 {n} 行重复列出 {path}", f"line {n} lists {path} twice")
        out[path] = digest
    return out


def _check_manifests(bag: _Bag) -> bytes | None:
    """Payload and tag manifests against the files present (RFC 8493 3: complete and valid)."""
    r = bag.report
    payload = _manifest(bag, "manifest-sha256.txt")
    tags = _manifest(bag, "tagmanifest-sha256.txt")
    for listing, name, is_payload in ((payload, "manifest-sha256.txt", True),
                                      (tags, "tagmanifest-sha256.txt", False)):
        present = {p for p in bag.infos if p.startswith("data/") == is_payload
                   and not p.startswith("tagmanifest-")}
        for path in sorted(present - set(listing)):
            r.fail(path, f"未列入 {name}", f"is not listed in {name}")
        for path in sorted(set(listing) - present):
            r.fail(name, f"列出的 {path} 不在包中", f"lists {path}, which is not in the bag")
        for path in sorted(present & set(listing)):
            actual = bag.sha.get(path)
            if actual is not None and actual != listing[path]:
                r.fail(path, f"内容与 {name} 记载的校验值不符（文件或清单被改动）",
                       f"differs from the checksum in {name} (the file or the manifest was "
                       "changed)")
    bagit = bag.read("bagit.txt")
    if bagit is not None and bagit != b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n":
        r.fail("bagit.txt", "不是 BagIt 1.0 声明", "is not a BagIt 1.0 declaration")
    info = bag.read("bag-info.txt")
    if info is not None:
        fields = dict(line.split(": ", 1) for line in info.decode("utf-8", "replace")
                      .splitlines() if ": " in line)
        r.case_number = fields.get("Quancheng-Case-Number", "")
        octets = sum(s for p, s in bag.size.items() if p.startswith("data/"))
        count = sum(1 for p in bag.infos if p.startswith("data/"))
        if fields.get("Payload-Oxum") != f"{octets}.{count}":
            r.fail("bag-info.txt", f"Payload-Oxum 与数据不符（实有 {octets}.{count}）",
                   f"Payload-Oxum does not match the payload ({octets}.{count} found)")
    return bag.read("manifest-sha256.txt")


def _load_key(bag: _Bag):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pem = bag.read("data/proofs/public_key.pem")
    if pem is None:
        return None
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        bag.report.fail("data/proofs/public_key.pem", f"无法读取公钥：{exc}",
                        f"the public key cannot be read: {exc}")
        return None
    if not isinstance(key, Ed25519PublicKey):
        bag.report.fail("data/proofs/public_key.pem", "不是 Ed25519 公钥",
                        "is not an Ed25519 public key")
        return None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    bag.report.key_fingerprint = hashlib.sha256(raw).hexdigest()
    return key


def _signed(key, note: str, signature_b64: str) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), note.encode())
        return True
    except Exception:  # InvalidSignature, bad base64, wrong length: all mean "not signed"
        return False


def _b64(value) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (TypeError, ValueError):
        return None


def _check_signature(bag: _Bag, key, manifest: bytes | None, origin: str) -> None:
    """The agency key signed this payload manifest (so no page was swapped and re-hashed)."""
    name = "manifest-signature.json"
    sig = bag.json(name)
    if sig is None or key is None or manifest is None:
        return
    expected = (f"{origin} dossier manifest v1\n{bag.report.case_number}\n"
                f"{hashlib.sha256(manifest).hexdigest()}\n")
    if not isinstance(sig, dict) or sig.get("note") != expected:
        bag.report.fail(name, "签名说明与 manifest-sha256.txt 或案号不符",
                        "its note does not match manifest-sha256.txt or the case number")
    elif not _signed(key, expected, sig.get("signature")):
        bag.report.fail(name, "账本公钥验证签名失败", "the signature does not verify with the "
                        "ledger public key")


def _check_checkpoints(bag: _Bag, key) -> tuple[dict[int, bytes], str]:
    """Each checkpoint's signature and its consistency proof to the newest: {size: root}."""
    r = bag.report
    roots: dict[int, bytes] = {}
    cps = {}
    for path in sorted(p for p in bag.infos if p.startswith("data/proofs/checkpoints/")):
        cp = bag.json(path)
        if not isinstance(cp, dict):
            continue
        size, root, origin = cp.get("tree_size"), _b64(cp.get("root_hash")), cp.get("origin")
        # The C2SP checkpoint body, then the extension lines the ledger signs with it (suite,
        # time, reason): each one non-empty and newline-terminated.
        body, note = f"{origin}\n{size}\n{cp.get('root_hash')}\n", cp.get("note")
        extensions = note[len(body):] if isinstance(note, str) else ""
        if (not isinstance(size, int) or root is None or len(root) != 32
                or path != f"data/proofs/checkpoints/{size}.json"
                or not isinstance(note, str) or not note.startswith(body)
                or (extensions and (not extensions.endswith("\n")
                                    or "" in extensions[:-1].split("\n")))):
            r.fail(path, "检查点内容不一致", "the checkpoint is inconsistent")
            continue
        if key is not None and not _signed(key, note, cp.get("signature")):
            r.fail(path, "检查点签名无法用账本公钥验证",
                   "the checkpoint signature does not verify with the ledger public key")
            continue
        cps[size] = (path, cp, root)
    origins = {cp.get("origin") for _p, cp, _r in cps.values()}
    if len(origins) > 1:
        r.fail("data/proofs/checkpoints", "检查点来自不同的账本", "checkpoints of different logs")
    if not cps:
        r.fail("data/proofs/checkpoints", "没有可用的签名检查点", "no valid signed checkpoint")
        return roots, ""
    newest = max(cps)
    newest_root = cps[newest][2]
    for size, (path, cp, root) in sorted(cps.items()):
        c = cp.get("consistency") or {}
        proof = [_b64(h) for h in c.get("proof") or ()]
        if (c.get("to") != newest or _b64(c.get("to_root")) != newest_root
                or any(p is None or len(p) != 32 for p in proof)
                or not verify_consistency(size, newest, root, newest_root, proof)):
            r.fail(path, f"一致性证明（{size} → {newest}）不成立：账本历史被改写",
                   f"the consistency proof ({size} -> {newest}) fails: the log was rewritten")
            continue
        roots[size] = root
    return roots, origins.pop()


# Where the row of each logged table lives in the bag.
def _row_file(table: str, row: dict) -> str:
    if table in ("cases", "parties", "stage_changes"):
        return "data/case.json"
    if table == "records":
        return f"data/records/{row.get('id')}.json"
    if table in ("approvals", "signatures"):
        return f"data/records/{row.get('record_id')}.json"
    if table == "refusals":
        rid = row.get("record_id")
        return f"data/records/{rid}.json" if rid else "data/case.json"
    if table == "evidence":
        return f"data/evidence/{row.get('id')}.json"
    return "data/case.json"


def _data_rows(bag: _Bag) -> dict[tuple[str, str], tuple[dict, str]]:
    """Every row the bag's record data carries: {(table, id): (row, file)}."""
    out: dict[tuple[str, str], tuple[dict, str]] = {}

    def put(table: str, row, path: str) -> None:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            bag.report.fail(path, f"{table} 行格式错误", f"a {table} row is malformed")
            return
        if (table, row["id"]) in out:
            bag.report.fail(path, f"{table} {row['id']} 出现两次", f"{table} {row['id']} twice")
        out[(table, row["id"])] = (row, path)

    case = bag.json("data/case.json")
    if isinstance(case, dict):
        put("cases", case.get("case"), "data/case.json")
        if case.get("party") is not None:
            put("parties", case.get("party"), "data/case.json")
        for row in case.get("stage_changes") or ():
            put("stage_changes", row, "data/case.json")
        for row in case.get("refusals") or ():
            put("refusals", row, "data/case.json")
        other = case.get("other") or {}
        for table, rows in (other.items() if isinstance(other, dict) else ()):
            if table in ("cases", "parties", "stage_changes", "records", "approvals",
                         "signatures", "refusals", "evidence"):
                bag.report.fail("data/case.json", f"{table} 不应列在 other 中",
                                f"{table} does not belong under other")
                continue
            for row in rows if isinstance(rows, list) else ():
                put(table, row, "data/case.json")
    for path in sorted(p for p in bag.infos if p.startswith("data/records/")):
        doc = bag.json(path)
        if not isinstance(doc, dict):
            continue
        put("records", doc.get("record"), path)
        for table in ("approvals", "signatures", "refusals"):
            for row in doc.get(table) or ():
                put(table, row, path)
    for path in sorted(p for p in bag.infos if p.startswith("data/evidence/")
                       and p.endswith(".json")):
        doc = bag.json(path)
        if isinstance(doc, dict):
            put("evidence", doc.get("evidence"), path)
    return out


def _check_entries(bag: _Bag, roots: dict[int, bytes]) -> dict[tuple[str, str], dict]:
    """Rebuild each leaf from the bag's record data, hash it, prove it in its checkpoint."""
    r = bag.report
    rows = _data_rows(bag)
    proven: dict[tuple[str, str], dict] = {}
    paths = sorted((p for p in bag.infos if p.startswith("data/proofs/entries/")),
                   key=lambda p: (len(p), p))
    r.entries = len(paths)
    for path in paths:
        e = bag.json(path)
        if not isinstance(e, dict):
            continue
        facts = {k: e.get(k) for k in ("seq", "kind", "table", "id", "case_id", "at")}
        if path != f"data/proofs/entries/{facts['seq']}.json":
            r.fail(path, "文件名与记录序号不符", "its name does not match its sequence number")
            continue
        leaf_text = e.get("leaf")
        logged = _b64(e.get("leaf_hash"))
        if not isinstance(leaf_text, str) or logged is None:
            r.fail(path, "缺少叶数据或叶哈希", "the leaf data or leaf hash is missing")
            continue
        leaf_bytes = leaf_text.encode("utf-8")
        if leaf_hash(leaf_bytes) != logged:
            r.fail(path, "叶数据的哈希与记载的叶哈希不符",
                   "the leaf data does not hash to its leaf hash")
        try:
            leaf_doc = json.loads(leaf_text)
        except ValueError:
            r.fail(path, "叶数据不是 JSON", "the leaf data is not JSON")
            continue
        if (canonical(leaf_doc) != leaf_bytes or leaf_doc.get("v") != 1
                or {k: leaf_doc.get(k) for k in facts} != facts):
            r.fail(path, "叶数据不是规范形式或与条目信息不符",
                   "the leaf data is not canonical or disagrees with the entry's facts")
        inc = e.get("inclusion") or {}
        size = inc.get("tree_size")
        proof = [_b64(h) for h in inc.get("proof") or ()]
        if size not in roots:
            r.fail(path, f"引用的检查点 {size} 不存在或无效",
                   f"its checkpoint {size} is missing or invalid")
        elif (not isinstance(facts["seq"], int) or any(p is None or len(p) != 32 for p in proof)
              or not verify_inclusion(logged, facts["seq"], size, proof, roots[size])):
            r.fail(path, f"包含证明不成立（检查点 {size}）",
                   f"the inclusion proof fails (checkpoint {size})")
        key = (facts["table"], facts["id"])
        found = rows.pop(key, None)
        if found is None:
            r.fail(path, f"{facts['table']} {facts['id']} 的记录数据不在包中",
                   f"the record data of {facts['table']} {facts['id']} is not in the bag")
            continue
        row, row_path = found
        rebuilt = canonical({**facts, "v": 1, "row": row})
        if leaf_hash(rebuilt) != logged:
            r.fail(row_path,
                   f"{facts['table']} {facts['id']} 与账本记录（第 {facts['seq']} 条）不符",
                   f"{facts['table']} {facts['id']} differs from ledger entry {facts['seq']}")
            continue
        if _row_file(facts["table"], row) != row_path:
            r.fail(row_path, f"{facts['table']} {facts['id']} 放错了文件",
                   f"{facts['table']} {facts['id']} is in the wrong file")
        proven[key] = row
    for (table, rid), (_row, row_path) in sorted(rows.items()):
        r.fail(row_path, f"{table} {rid} 没有账本记录", f"{table} {rid} has no ledger entry")
    return proven


def _check_files(bag: _Bag, proven: dict[tuple[str, str], dict]) -> None:
    """Evidence originals and signature images hash as logged; the catalogue lists exactly the
    documents present, in time order."""
    r = bag.report
    cat_path = "data/catalogue.json"
    cat = bag.json(cat_path)
    if not isinstance(cat, dict) or cat.get("format") != FORMAT:
        if cat is not None:
            r.fail(cat_path, "目录格式不符", f"is not a {FORMAT} catalogue")
        return
    docs = cat.get("documents") or []
    r.documents = len(docs)
    if cat.get("case_number") != r.case_number:
        r.fail(cat_path, "目录的案号与 bag-info.txt 不符",
               "its case number differs from bag-info.txt")
    listed: set[str] = {f"data/{p}" for p in (cat.get("front") or {}).values()}
    want_records = {rid for (t, rid) in proven if t == "records"}
    want_evidence = {rid for (t, rid) in proven if t == "evidence"}
    seen: dict[str, set[str]] = {"record": set(), "evidence": set()}
    times = []
    for n, d in enumerate(docs, start=1):
        if not isinstance(d, dict) or d.get("serial") != n or d.get("kind") not in seen:
            r.fail(cat_path, f"第 {n} 项序号或类别错误", f"item {n}: wrong serial or kind")
            continue
        seen[d["kind"]].add(d.get("id"))
        try:
            times.append((datetime.fromisoformat(d.get("time")), n))
        except (TypeError, ValueError):
            r.fail(cat_path, f"第 {n} 项时间无法读取", f"item {n}: unreadable time")
        files = d.get("files") or {}
        listed |= {f"data/{p}" for p in files.values()}
        if d["kind"] == "evidence":
            row = proven.get(("evidence", d.get("id")))
            original = f"data/{files.get('original')}"
            if row is None:
                continue
            if original not in bag.infos:
                r.fail(original, "证据原件缺失", "the evidence original is missing")
            elif bag.sha.get(original) is not None and (bag.sha[original] != row.get("sha256")
                                                        or bag.size[original] != row.get("size")):
                r.fail(original, "证据原件的哈希与账本记载不符（原件被改动）",
                       "the evidence original does not match the hash the ledger logged")
    try:
        ordered = [t for t, _n in times] == sorted(t for t, _n in times)
    except TypeError:  # a time without a zone among zoned ones
        ordered = False
    if not ordered:
        r.fail(cat_path, "目录未按时间顺序排列", "the catalogue is not in time order")
    for kind, want in (("record", want_records), ("evidence", want_evidence)):
        for rid in sorted(want - seen[kind]):
            r.fail(cat_path, f"未列出{'文书' if kind == 'record' else '证据'} {rid}",
                   f"does not list {kind} {rid}")
        for rid in sorted(seen[kind] - want):
            r.fail(cat_path,
                   f"列出的{'文书' if kind == 'record' else '证据'} {rid} 没有经证明的数据",
                   f"lists {kind} {rid}, which has no proven data")
    present = {p for p in bag.infos if p.startswith(("data/documents/", "data/records/",
                                                     "data/evidence/"))}
    for path in sorted(present - listed):
        r.fail(path, "目录中没有列出此文件", "is not listed in the catalogue")
    for path in sorted(listed - present):
        r.fail(cat_path, f"列出的 {path} 不在包中", f"lists {path}, which is not in the bag")
    images = {row.get("image_sha256") for (t, _i), row in proven.items()
              if t == "signatures" and row.get("image_sha256")}
    for path in sorted(p for p in bag.infos if p.startswith("data/signatures/")):
        name = path.rsplit("/", 1)[1].split(".", 1)[0]
        if name not in images:
            r.fail(path, "没有签名记录引用此图像", "no signature refers to this image")
        elif bag.sha.get(path) not in (None, name):
            r.fail(path, "签名图像与账本记载的哈希不符",
                   "the signature image does not match its logged hash")
        images.discard(name)
    for sha in sorted(images):
        r.fail("data/signatures", f"签名图像 {sha[:16]}… 缺失",
               f"signature image {sha[:16]}… is missing")


def verify_bag(path: str) -> Report:
    """Verify a case-file bag (a zip); the report names every failure by file."""
    report = Report(bag=str(path))
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.fail(str(path), f"不是可读的 zip 文件：{exc}", f"is not a readable zip file: {exc}")
        return report
    with zf:
        bag = _Bag(zf, report)
        if not bag.root:
            return report
        manifest = _check_manifests(bag)
        key = _load_key(bag)
        roots, origin = _check_checkpoints(bag, key)
        _check_signature(bag, key, manifest, origin)
        proven = _check_entries(bag, roots)
        _check_files(bag, proven)
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: verify one bag, print the verdict, exit 0 (intact) or 1."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("用法 / usage: python verify.py BAG.zip", file=sys.stderr)
        return 2
    report = verify_bag(args[0])
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark core.ledger.merkle: append rate, root time and proof latency at N leaves.

Usage: .venv/bin/python bench/merkle_bench.py [--leaves N] [--proofs K] [--seed S]

Prints human-readable lines, then one JSON line with the same figures for tooling.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

# Run as a script from anywhere: put the project root (parent of bench/) on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.ledger.merkle import (
    MemoryHashStore,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaves,
    stored_hash_count,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)


def _percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile; enough for latency summaries of ~1,000 samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 1)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; return a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000, help="tree size (default 1e6)")
    parser.add_argument("--proofs", type=int, default=1_000, help="random proofs to time")
    parser.add_argument("--seed", type=int, default=9162, help="seed for the random indexes")
    args = parser.parse_args(argv)
    n, k = args.leaves, args.proofs
    if n < 2 or k < 1:
        parser.error("--leaves must be >= 2 and --proofs >= 1")
    rng = random.Random(args.seed)
    clock = time.perf_counter

    # Leaf hashing is timed apart from appending: in production the leaf hash is computed from
    # the record when it is written, and the append rate is the tree's own cost.
    t0 = clock()
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    leaf_s = clock() - t0

    store = MemoryHashStore()
    append = store.append_leaf
    t0 = clock()
    for h in leaves:
        append(h)
    append_s = clock() - t0

    # Root at the full size and at random historical sizes (an auditor's view of old
    # checkpoints); both are a handful of reads, so time many and take the median.
    root_samples = []
    for _ in range(200):
        t0 = clock()
        root = tree_hash(n, store)
        root_samples.append(clock() - t0)
    hist_samples = []
    for size in (rng.randrange(1, n + 1) for _ in range(200)):
        t0 = clock()
        tree_hash(size, store)
        hist_samples.append(clock() - t0)

    # Cross-check against the independent recursive reference so a fast-but-wrong tree can
    # never produce a good-looking benchmark.
    t0 = clock()
    if root_from_leaves(leaves) != root:
        print("FAIL: tree_hash disagrees with root_from_leaves", file=sys.stderr)
        return 1
    reference_s = clock() - t0

    prove_samples, verify_samples = [], []
    for index in (rng.randrange(n) for _ in range(k)):
        t0 = clock()
        proof = inclusion_proof(n, index, store)
        t1 = clock()
        ok = verify_inclusion(leaves[index], index, n, proof, root)
        t2 = clock()
        if not ok:
            print(f"FAIL: inclusion proof for leaf {index} did not verify", file=sys.stderr)
            return 1
        prove_samples.append(t1 - t0)
        verify_samples.append(t2 - t1)

    cons_samples, cverify_samples = [], []
    for old in (rng.randrange(1, n) for _ in range(k)):
        old_root = tree_hash(old, store)
        t0 = clock()
        proof = consistency_proof(old, n, store)
        t1 = clock()
        ok = verify_consistency(old, n, old_root, root, proof)
        t2 = clock()
        if not ok:
            print(f"FAIL: consistency proof {old} -> {n} did not verify", file=sys.stderr)
            return 1
        cons_samples.append(t1 - t0)
        cverify_samples.append(t2 - t1)

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    result = {
        "bench": "merkle",
        "python": platform.python_version(),
        "leaves": n,
        "stored_hashes": stored_hash_count(n),
        "leaf_hash_rate_per_s": round(n / leaf_s),
        "append_s": round(append_s, 3),
        "append_rate_leaves_per_s": round(n / append_s),
        "reference_root_s": round(reference_s, 3),
        "tree_hash_us_median": _us(statistics.median(root_samples)),
        "tree_hash_historical_us_median": _us(statistics.median(hist_samples)),
        "inclusion_proof_us_median": _us(statistics.median(prove_samples)),
        "inclusion_proof_us_p99": _us(_percentile(prove_samples, 99)),
        "inclusion_verify_us_median": _us(statistics.median(verify_samples)),
        "inclusion_verify_us_p99": _us(_percentile(verify_samples, 99)),
        "consistency_proof_us_median": _us(statistics.median(cons_samples)),
        "consistency_proof_us_p99": _us(_percentile(cons_samples, 99)),
        "consistency_verify_us_median": _us(statistics.median(cverify_samples)),
        "consistency_verify_us_p99": _us(_percentile(cverify_samples, 99)),
        "proof_samples": k,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "root": root.hex(),
    }
    print(f"leaves                 {n:,} ({result['stored_hashes']:,} stored hashes)")
    print(f"leaf hashing           {result['leaf_hash_rate_per_s']:,} leaves/s")
    print(
        f"append                 {result['append_rate_leaves_per_s']:,} leaves/s ({append_s:.2f} s)"
    )
    print(f"tree_hash(N)           {result['tree_hash_us_median']} us median")
    print(f"reference root         {reference_s:.2f} s (root_from_leaves, full recomputation)")
    print(f"tree_hash(random size) {result['tree_hash_historical_us_median']} us median")
    print(
        f"inclusion proof        {result['inclusion_proof_us_median']} us median, "
        f"{result['inclusion_proof_us_p99']} us p99 ({k} random leaves)"
    )
    print(
        f"inclusion verify       {result['inclusion_verify_us_median']} us median, "
        f"{result['inclusion_verify_us_p99']} us p99"
    )
    print(
        f"consistency proof      {result['consistency_proof_us_median']} us median, "
        f"{result['consistency_proof_us_p99']} us p99 ({k} random old sizes)"
    )
    print(
        f"consistency verify     {result['consistency_verify_us_median']} us median, "
        f"{result['consistency_verify_us_p99']} us p99"
    )
    print(f"peak RSS               {result['peak_rss_mb']} MB")
    print(f"root                   {result['root']}")
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

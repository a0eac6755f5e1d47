"""Child-process side of metadata extraction: limit resources, parse, answer in JSON.

Run as ``python -m capture.extract_worker PATH MEDIA_TYPE [MEMORY_MB [CPU_S]]``; prints
the metadata of one file as JSON on stdout. ``capture.metadata.extract`` runs it under a
wall-clock timeout. Exit code 3 means the memory limit was hit, 4 that the parsers could
not even be loaded under it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import sys

OUTPUT_LIMIT = 4 << 20


def limit_resources(memory_mb: int, cpu_s: float) -> None:
    """Cap this process's address space, CPU time, file writes and core dumps."""
    mem = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(math.ceil(cpu_s)) + 1  # the parent's wall-clock timeout normally fires first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not dump hostile data
    with contextlib.suppress(OSError):
        os.nice(5)  # parsing yields to the web process serving officers


def main(argv: list[str] | None = None) -> int:
    """Parse one file under limits and print its metadata as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if not 2 <= len(args) <= 4:
        print("usage: python -m capture.extract_worker PATH MEDIA_TYPE [MEMORY_MB [CPU_S]]",
              file=sys.stderr)
        return 2
    memory_mb = int(args[2]) if len(args) > 2 else 512
    try:
        # Limits first, parsers after: the imports themselves run under the cap.
        limit_resources(memory_mb, float(args[3]) if len(args) > 3 else 10.0)
        import importlib

        from capture.metadata import extract_inline, parser_modules

        try:
            for name in parser_modules(args[1]):
                importlib.import_module(name)
        except ImportError as exc:  # a shared library that cannot be mapped under the cap
            print(f"cannot load parsers: {exc}", file=sys.stderr)
            return 4
        md = extract_inline(args[0], args[1])
        if any("ran out of memory" in e for e in md.errors):
            # Other readers may still have answered: keep their fields, flag the gap.
            md.errors.append(f"metadata incomplete: a reader exceeded the {memory_mb} MB "
                             f"memory limit")
        payload = json.dumps(md.to_dict(), ensure_ascii=False)
    except MemoryError:
        return 3
    sys.stdout.write(payload)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every benchmark in bench/ in turn, saving each one's output under bench/out/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Run each bench script; a failing one is reported and the rest still run."""
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    failed = []
    for script in sorted(HERE.glob("*_bench.py")):
        print(f"== {script.name}", flush=True)
        with open(out / f"{script.stem}.txt", "w") as log:
            rc = subprocess.call([sys.executable, str(script)], stdout=log,
                                 stderr=subprocess.STDOUT)
        print((out / f"{script.stem}.txt").read_text().strip().splitlines()[-1:] or ["(no output)"])
        if rc:
            failed.append(script.name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

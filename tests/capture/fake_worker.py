"""Stand-ins for capture.extract_worker that misbehave on purpose (crash, hang, lie)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main(mode: str) -> int:
    """Misbehave as ``mode`` says."""
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "hang":
        time.sleep(60)
    if mode == "garbage":
        sys.stdout.write("this is not json")
    if mode == "naive":
        sys.stdout.write('{"media_type": "jpeg", "taken_at": "2024-03-05T10:11:12"}')
    if mode == "huge":
        sys.stdout.write('{"media_type": "jpeg", "make": "' + "A" * (2 << 20) + '"}')
    if mode == "env":
        token = os.environ.get("TELEGRAM_TOKEN", "absent")
        sys.stdout.write(json.dumps({"media_type": "jpeg", "make": token}))
    if mode == "exit1":
        print("Traceback: something broke", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

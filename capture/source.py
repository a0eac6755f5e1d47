"""Where a parser reads a file from: a path, or an open file descriptor (the warm parser pool
hands its sandboxed workers a descriptor over a Unix socket, so they need no view of the
upload folder)."""

from __future__ import annotations

import os
from typing import BinaryIO

Source = str | os.PathLike[str] | int


def open_source(source: Source) -> BinaryIO:
    """A binary file object; for a descriptor, one that leaves the descriptor open on close."""
    if isinstance(source, int):
        f = open(source, "rb", closefd=False)  # noqa: SIM115 - the caller closes it
        f.seek(0)  # the descriptor's offset is shared: every reader starts at the beginning
        return f
    return open(source, "rb")  # noqa: SIM115 - the caller closes it

"""Pausing Python's cyclic garbage collector while a configuration or state is built.

Loading, reading and planning allocate hundreds of thousands of long-lived objects
that form no reference cycles (YAML values, records, state items). Every few hundred
allocations the collector would walk all of them again for nothing: 30-45 % of a
large plan (benchmarks/README.md). Reference counting still frees everything as
usual; only the search for cycles waits until the outermost paused block ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; nested and threaded blocks are safe:
    the collector comes back (if it was on) when the last block open anywhere ends."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()

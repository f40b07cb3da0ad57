"""Constants shared by the 24SevenOffice tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crmconf.targets.twentyfour import Backoff, TwentyFourClient

# The vendor's published WSDLs live next to the repository in CI, never inside it.
VENDOR_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "vendor" / "24sevenoffice"

# Fast but still exponential: whole-folder runtime stays small.
FAST_BACKOFF = Backoff(base=0.005, cap=0.02)

ClientFactory = Callable[..., TwentyFourClient]

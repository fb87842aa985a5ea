"""`rizhilu export` and `rizhilu import` (filled in by the export feature)."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    del sub
    _ = argparse

"""The desktop application's entry point (the desktop issue builds the windows)."""

from __future__ import annotations


def run_desktop() -> int:
    raise SystemExit("The desktop app is not built yet.")

"""Where the shipped resources (fonts, PDF and email templates) are, from source or a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources`` folder: beside the packages in a checkout, in ``_MEIPASS`` when frozen.

    ``build.spec`` ships the folder as ``resources`` at the root of the PyInstaller bundle.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def fonts_dir(resources: Path | None = None) -> Path:
    return (resources or resources_dir()) / "fonts"


def templates_dir(resources: Path | None = None) -> Path:
    return (resources or resources_dir()) / "templates"

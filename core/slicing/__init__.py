"""Slicing with CuraEngine: find Cura, resolve its settings as Cura does, slice, read results."""

from __future__ import annotations

from core.slicing.cancel import CancelToken
from core.slicing.errors import SlicingError
from core.slicing.locate import CuraInstall, locate_cura
from core.slicing.placement import Placement
from core.slicing.resolver import CuraLibrary, PrintChoices, ResolvedSettings, resolve_settings
from core.slicing.runner import SliceRequest, SliceResult, slice_part

__all__ = [
    "CancelToken",
    "CuraInstall",
    "CuraLibrary",
    "Placement",
    "PrintChoices",
    "ResolvedSettings",
    "SliceRequest",
    "SliceResult",
    "SlicingError",
    "locate_cura",
    "resolve_settings",
    "slice_part",
]

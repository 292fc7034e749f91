"""Cura's resources and the real CuraEngine for slicing tests; skipped with a reason if absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.slicing.errors import SlicingError
from core.slicing.locate import CuraInstall, is_resources_folder, locate_cura
from core.slicing.resolver import CuraLibrary

# ../shared/models beside the checkout; PRINTDESK_MODELS names it for a worktree elsewhere.
MODELS = Path(
    os.environ.get("PRINTDESK_MODELS") or Path(__file__).resolve().parents[3] / "shared" / "models"
)
CUBE = MODELS / "20mm-xyz-cube.stl"
COUNTER = MODELS / "counter.unitsmm.STL"


@pytest.fixture(scope="session")
def cura_resources() -> Path:
    configured = os.environ.get("PRINTDESK_CURA_RESOURCES")
    if not configured:
        pytest.skip("PRINTDESK_CURA_RESOURCES is not set (make test sets it to .cache/cura/…)")
    path = Path(configured)
    if not is_resources_folder(path):
        pytest.skip(f"PRINTDESK_CURA_RESOURCES={path} holds no Cura definitions (run make cura)")
    return path


@pytest.fixture(scope="session")
def library(cura_resources: Path) -> CuraLibrary:
    return CuraLibrary(cura_resources)


@pytest.fixture(scope="session")
def cura(cura_resources: Path) -> CuraInstall:
    try:
        return locate_cura(resources=cura_resources)
    except SlicingError as exc:
        pytest.skip(f"No CuraEngine to slice with: {exc}")


@pytest.fixture(scope="session")
def models() -> Path:
    if not CUBE.is_file():
        pytest.skip(f"The shared test meshes are not at {MODELS}")
    return MODELS

"""Fixtures of the mesh tests: hostile files are built once per run."""

from __future__ import annotations

import pytest

from tests.mesh.builders import zip_bomb_3mf


@pytest.fixture(scope="session")
def zip_bomb() -> bytes:
    """A 1 MB 3MF package whose model part inflates to 1 GiB of zeros."""
    return zip_bomb_3mf()

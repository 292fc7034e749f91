"""A 3MF holding several objects, split into one STL file per object (one part each)."""

from __future__ import annotations

from pathlib import Path

import trimesh

from core.mesh.analysis import load_3mf_objects
from core.mesh.intake import check_file, safe_filename


def split_objects(source: Path, folder: Path, *, max_bytes: int | None = None) -> list[Path]:
    """The 3MF's objects written to ``folder`` as ``<file> - <object>.stl``, in build order.

    Returns [] for anything that is not a 3MF holding two or more objects: such a file is one
    part as it stands. Each object keeps its millimetre size; its place on the 3MF's plate is
    dropped (the slicer places every part on its own bed).
    """
    checked = check_file(source, max_bytes=max_bytes)
    if checked.fmt != "3mf":
        return []
    objects = load_3mf_objects(source, max_bytes=max_bytes)
    if len(objects) < 2:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(checked.filename).stem
    written: list[Path] = []
    taken: set[str] = set()
    for label, mesh in objects:
        name = safe_filename(f"{stem} - {label}.stl")
        count = 1
        while name.lower() in taken:
            count += 1
            name = safe_filename(f"{stem} - {label} ({count}).stl")
        taken.add(name.lower())
        path = folder / name
        _write_stl(mesh, path)
        written.append(path)
    return written


def _write_stl(mesh: trimesh.Trimesh, path: Path) -> None:
    data = mesh.export(file_type="stl")
    path.write_bytes(data.encode() if isinstance(data, str) else bytes(data))

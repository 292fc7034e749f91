"""Mesh intake speed: load + analyse a generated 1,000,000-face binary STL beside a raw NumPy read.

The raw read (``np.fromfile`` with the STL record dtype) is the floor any loader pays for
getting the triangles into memory; the ratio says what welding, topology, bodies, volume and
the unit guess cost on top. Both run in the same process on the same file, several times,
and the best of each counts; trimesh's own load and properties are timed once beside them.
Run: ``.venv/bin/python bench/mesh.py [FACES]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh
from numpy.typing import NDArray

from core.mesh.analysis import analyze, load_mesh, repair
from core.mesh.intake import check_file

RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])


def torus_triangles(faces: int) -> NDArray[np.float32]:
    """A closed torus (R 60 mm, r 20 mm) with about `faces` triangles, as (n, 3, 3) corners."""
    around = max(3, round(np.sqrt(faces)))
    tube = max(3, faces // (2 * around))
    u = np.linspace(0, 2 * np.pi, around, endpoint=False)
    v = np.linspace(0, 2 * np.pi, tube, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ring = 60.0 + 20.0 * np.cos(vv)
    points = np.stack([ring * np.cos(uu), ring * np.sin(uu), 20.0 * np.sin(vv)], axis=-1)
    points = points.reshape(-1, 3)
    i = np.arange(around)[:, None]
    j = np.arange(tube)[None, :]
    a = i * tube + j
    b = ((i + 1) % around) * tube + j
    c = ((i + 1) % around) * tube + (j + 1) % tube
    d = i * tube + (j + 1) % tube
    quads = np.concatenate(
        [np.stack([a, b, c], axis=-1).reshape(-1, 3), np.stack([a, c, d], axis=-1).reshape(-1, 3)]
    )
    triangles: NDArray[np.float32] = points[quads].astype(np.float32)
    return triangles


def write_binary_stl(path: Path, triangles: NDArray[np.float32]) -> None:
    records = np.zeros(len(triangles), dtype=RECORD)
    records["corners"] = triangles
    with path.open("wb") as fh:
        fh.write(b"PrintDesk bench torus".ljust(80, b"\0"))
        fh.write(np.uint32(len(triangles)).tobytes())
        records.tofile(fh)


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of `runs` calls (CPU time is steadier on a busy box)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    faces = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="printdesk-bench-") as folder:
        path = Path(folder) / "torus.stl"
        triangles = torus_triangles(faces)
        write_binary_stl(path, triangles)
        size_mb = path.stat().st_size / 1e6

        def raw() -> object:
            return np.fromfile(path, dtype=RECORD, offset=84)["corners"]

        def load() -> object:
            return load_mesh(path, check_file(path).fmt)

        def load_and_analyze() -> object:
            return analyze(load_mesh(path, check_file(path).fmt))

        mesh = load_mesh(path, "stl_binary")
        report = analyze(mesh)
        raw_s = best_of(5, raw)
        load_s = best_of(3, load)
        total_s = best_of(3, load_and_analyze)
        analyze_s = best_of(3, lambda: analyze(mesh))
        repair_s = best_of(1, lambda: repair(mesh))

        def trimesh_alone() -> object:
            loaded = trimesh.load(path, force="mesh")  # merges vertices on load
            assert isinstance(loaded, trimesh.Trimesh)
            return loaded.is_watertight, loaded.body_count, loaded.volume

        trimesh_s = best_of(1, trimesh_alone)

    print(f"file: {len(triangles):,} faces, {size_mb:.1f} MB binary STL")
    print(
        f"report: watertight={report.watertight} bodies={report.bodies} "
        f"volume={report.volume_mm3} mm³ extents={report.extents_mm} units={report.units_guess}"
    )
    rows = [
        ("raw numpy read (np.fromfile)", raw_s),
        ("intake check + load_mesh", load_s),
        ("analyze (mesh already loaded)", analyze_s),
        ("intake + load + analyze", total_s),
        ("repair (nothing to fix)", repair_s),
        ("trimesh.load + watertight/bodies/volume", trimesh_s),
    ]
    print(f"{'':42s}{'wall ms':>10s}{'cpu ms':>10s}")
    for label, (wall, cpu) in rows:
        print(f"{label:42s}{wall * 1000:10.1f}{cpu * 1000:10.1f}")
    print(
        f"ratio load+analyze / raw read: {total_s[0] / raw_s[0]:.0f}x wall, "
        f"{total_s[1] / max(raw_s[1], 1e-9):.0f}x cpu"
    )


if __name__ == "__main__":
    main()

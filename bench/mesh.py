"""Mesh intake speed: load + analyse a generated 1,000,000-face binary STL beside a raw NumPy read.

The raw read (``np.fromfile`` with the STL record dtype) is the floor any loader pays for
getting the triangles into memory; the ratio says what welding, topology, bodies, volume and
the unit guess cost on top. Both run in the same process on the same file, several times,
and the best of each counts; trimesh's own load and properties are timed once beside them.

Thumbnails: each file of ``../shared/models`` and the generated STL is turned into a 256 px PNG
the way the thumbnail service does it (load the bytes, render offscreen), first and steady
state, beside rendering a 12-face cube in the same process. The 3D view's first frame (a live
MeshView under Xvfb, from ``show_mesh`` to the first rendered frame) and an orbit frame are
timed in a child process on its own X display, against the same view showing the cube.
Run: ``.venv/bin/python bench/mesh.py [FACES]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import trimesh
from numpy.typing import NDArray

from core.mesh.analysis import MeshReport, analyze, load_mesh, repair
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
        report_intake(
            triangles, size_mb, report, raw_s, load_s, analyze_s, total_s, repair_s, trimesh_s
        )
        thumbnail_times(path)
        first_frame(path)


def report_intake(
    triangles: NDArray[np.float32],
    size_mb: float,
    report: MeshReport,
    raw_s: tuple[float, float],
    load_s: tuple[float, float],
    analyze_s: tuple[float, float],
    total_s: tuple[float, float],
    repair_s: tuple[float, float],
    trimesh_s: tuple[float, float],
) -> None:

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


MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"


def thumbnail_times(stl: Path) -> None:
    """256 px thumbnails as the service makes them: bytes -> mesh -> offscreen PNG."""
    from core.mesh.render import render_png

    def thumbnail(data: bytes) -> bytes:
        return render_png(load_mesh(data), size=256)

    cube = trimesh.creation.box((20.0, 20.0, 20.0))
    first_cube = best_of(1, lambda: render_png(cube, size=256))[0]  # also starts EGL
    cube_s = best_of(5, lambda: render_png(cube, size=256))[0]
    print(f"\nthumbnails (256 px; first render in the process {first_cube * 1000:.0f} ms)")
    print(f"{'file':34s}{'faces':>10s}{'first ms':>10s}{'steady ms':>11s}{'x cube':>8s}")
    print(f"{'12-face cube (baseline)':34s}{12:>10,}{'':>10s}{cube_s * 1000:11.1f}{1.0:8.1f}")
    files = sorted(p for p in MODELS.iterdir() if p.suffix.lower() in {".stl", ".obj", ".3mf"})
    for path in [*files, stl]:
        data = path.read_bytes()
        try:
            faces = len(load_mesh(data).faces)
            if not faces:
                raise ValueError("no triangles to draw")
            first = best_of(1, partial(thumbnail, data))[0]
            steady = best_of(2, partial(thumbnail, data))[0]
        except Exception as exc:  # the service reports these as `failed`
            print(f"{path.name:34s}  refused: {str(exc).splitlines()[0][:60]}")
            continue
        name = "generated torus" if path == stl else path.name
        print(
            f"{name:34s}{faces:>10,}{first * 1000:10.1f}{steady * 1000:11.1f}{steady / cube_s:8.1f}"
        )


FIRST_FRAME_CHILD = "--first-frame-child"


def first_frame_child(stl: Path) -> None:
    """In an X session: time MeshView.show_mesh to its first frame, and one orbit frame."""
    from PySide6.QtWidgets import QApplication

    from desktop.views.mesh_view import MeshView

    app = QApplication([])
    view = MeshView(interactive=True)
    view.resize(1280, 800)
    view.show()
    app.processEvents()
    frames = [0]
    view.plotter.ren_win.AddObserver("EndEvent", lambda *_: frames.__setitem__(0, frames[0] + 1))

    def first_frame(mesh: trimesh.Trimesh) -> tuple[float, float]:
        seen = frames[0]
        start = time.perf_counter()
        view.show_mesh(mesh, bed_mm=(220.0, 220.0, 250.0))
        while frames[0] == seen:
            app.processEvents()
        shown = time.perf_counter() - start
        orbit = []
        for _ in range(5):
            view.plotter.camera.Azimuth(10)
            start = time.perf_counter()
            view.plotter.ren_win.Render()
            orbit.append(time.perf_counter() - start)
        return shown, min(orbit)

    cube = trimesh.creation.box((20.0, 20.0, 20.0))
    first_frame(cube)  # GL warm-up
    cube_first, cube_orbit = first_frame(cube)
    big = load_mesh(stl)
    big_first, big_orbit = first_frame(big)
    assert view.shown is not None
    drawn = len(view.shown.faces)
    view.close_view()
    view.close()
    print(f"\n3D view (MeshView under Xvfb, 1280x800, llvmpipe), drawn {drawn:,} faces")
    print(f"{'':34s}{'first frame ms':>15s}{'orbit frame ms':>16s}")
    print(f"{'12-face cube (baseline)':34s}{cube_first * 1000:15.1f}{cube_orbit * 1000:16.1f}")
    print(f"{f'{len(big.faces):,}-face torus':34s}{big_first * 1000:15.1f}{big_orbit * 1000:16.1f}")
    print(
        f"ratio torus / cube: first frame {big_first / cube_first:.0f}x, "
        f"orbit frame {big_orbit / cube_orbit:.1f}x"
    )


def first_frame(stl: Path) -> None:
    """Run `first_frame_child` on a private Xvfb display with the xcb Qt platform."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print("\n3D view: skipped (Xvfb is not installed)")
        return
    display = f":{100 + os.getpid() % 800}"
    server = subprocess.Popen(
        [xvfb, display, "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            if time.monotonic() > deadline or server.poll() is not None:
                print("\n3D view: skipped (Xvfb did not start)")
                return
            time.sleep(0.05)  # waiting for another process's socket, not for our own work
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        subprocess.run(
            [sys.executable, __file__, FIRST_FRAME_CHILD, str(stl)],
            env=env,
            check=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == FIRST_FRAME_CHILD:
        first_frame_child(Path(sys.argv[2]))
    else:
        main()

"""Mesh loading, analysis, units, rescale and repair on the shared real-world files and on
hostile ones built here."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import trimesh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.mesh.analysis import (
    DEFAULT_PRINTERS,
    MeshError,
    MeshReport,
    TooManyFaces,
    analyze,
    guess_units,
    load_mesh,
    repair,
    rescale,
)
from core.mesh.intake import IntakeError, UnsafePackage, check_file
from tests.mesh.builders import (
    CUBE_CORNERS,
    CUBE_FACES,
    MODELS,
    ascii_stl,
    binary_stl,
    cube_3mf,
    cube_triangles,
    mesh_object,
    model_xml,
    package_3mf,
    random_bytes,
)

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Expected:
    faces: int
    units: str
    file_units: str
    watertight: bool
    bodies: int
    ok: bool
    problems: frozenset[str]


def expect(
    faces: int,
    units: str,
    watertight: bool,
    bodies: int,
    ok: bool,
    *problems: str,
    file_units: str | None = None,
) -> Expected:
    return Expected(faces, units, file_units or units, watertight, bodies, ok, frozenset(problems))


TOO_BIG = "too_big_for_every_printer"
SEVERAL = "several_bodies"

# With the default 220 × 220 × 250 mm printer. "inch" with file_units "mm": drawn in inches,
# exported in millimetres (nothing to rescale).
MODEL_TABLE: dict[str, Expected] = {
    "1002_tray_bottom.STL": expect(4520, "inch", True, 1, False, TOO_BIG, file_units="mm"),
    "20mm-xyz-cube.stl": expect(260, "mm", True, 1, True),
    "ADIS16480.STL": expect(7436, "m", True, 1, False, "tiny"),
    "busted.STL": expect(3878, "inch", True, 1, True),
    "counter.unitsmm.STL": expect(83750, "mm", True, 6, False, SEVERAL, TOO_BIG),
    "counterX.3MF": expect(8080, "mm", True, 1, False, TOO_BIG),
    "cube_and_sphere_same_name.3mf": expect(5132, "mm", True, 2, True, SEVERAL),
    "empty.stl": expect(0, "mm", False, 0, False, "empty"),
    "featuretype.STL": expect(3476, "inch", True, 1, True),
    "fuze.obj": expect(1000, "m", True, 1, False, "tiny"),
    "idler_riser.STL": expect(1572, "inch", True, 1, True),
    "multibody.stl": expect(32, "inch", True, 2, True, SEVERAL),
    "nancolor.obj": expect(12, "inch", True, 1, True),
    "negative_indices.obj": expect(12, "inch", True, 1, True),
    "notenoughindices.obj": expect(
        1, "mm", False, 1, False, "open_shell", "degenerate_faces", TOO_BIG
    ),
    "octagonal_pocket.stl": expect(3262, "m", True, 1, False, "tiny"),
    "plate_holes.STL": expect(1252, "inch", True, 1, False, TOO_BIG, file_units="mm"),
    "pyramids.3mf": expect(3276, "mm", True, 12, False, SEVERAL, TOO_BIG),
    "rabbit.obj": expect(1252, "inch", True, 9, True, SEVERAL),
    "soup.stl": expect(100, "inch", False, 100, False, "open_shell", SEVERAL, "tiny"),
    "teapot.stl": expect(894, "mm", False, 3, False, "open_shell", SEVERAL),
    "wallhole.obj": expect(66, "mm", False, 1, False, "open_shell", "degenerate_faces"),
}


def report_for(name: str) -> MeshReport:
    path = MODELS / name
    return analyze(load_mesh(path, check_file(path).fmt))


def test_the_table_covers_every_shared_model() -> None:
    on_disk = {p.name for p in MODELS.iterdir() if p.name != "README.md"}
    assert on_disk == set(MODEL_TABLE)


@pytest.mark.parametrize(("name", "want"), sorted(MODEL_TABLE.items()))
def test_shared_models_give_the_right_answers(name: str, want: Expected) -> None:
    report = report_for(name)
    got = Expected(
        report.faces,
        report.units_guess,
        report.file_units,
        report.watertight,
        report.bodies,
        report.ok,
        report.problem_codes,
    )
    assert got == want
    assert (report.volume_mm3 is None) == (not report.watertight)
    if report.volume_mm3 is not None:
        assert report.volume_mm3 > 0
    assert report.ok == (report.problem_codes <= {SEVERAL, "degenerate_faces"})
    assert all(p.message.strip() and "\n" not in p.message for p in report.problems)


@pytest.mark.parametrize(
    "name", ["featuretype.STL", "idler_riser.STL", "1002_tray_bottom.STL", "plate_holes.STL"]
)
def test_inch_cad_exports_come_out_inch(name: str) -> None:
    assert report_for(name).units_guess == "inch"


def test_measurements_of_known_parts() -> None:
    cube = report_for("20mm-xyz-cube.stl")
    assert cube.extents_mm == pytest.approx((20.0, 20.0, 20.0), abs=1e-3)
    assert 7800 < (cube.volume_mm3 or 0) < 8000  # 20 mm cube less its engraved letters
    plate = report_for("plate_holes.STL")
    assert plate.extents_mm == pytest.approx((203.2, 304.8, 12.7), abs=1e-3)  # 8 × 12 × ½ in
    counter = report_for("counter.unitsmm.STL")
    assert max(counter.extents_mm) == pytest.approx(304.8, abs=1e-3)
    assert report_for("negative_indices.obj").volume_mm3 == pytest.approx(8.0)


def test_3mf_volume_matches_trimesh() -> None:
    ours = report_for("cube_and_sphere_same_name.3mf").volume_mm3
    theirs = trimesh.load(MODELS / "cube_and_sphere_same_name.3mf", force="mesh")
    assert isinstance(theirs, trimesh.Trimesh)
    assert ours == pytest.approx(theirs.volume, rel=1e-4)


def test_as_json_has_exactly_the_documented_keys() -> None:
    data = report_for("teapot.stl").as_json()
    assert list(data) == [
        "ok",
        "faces",
        "bodies",
        "watertight",
        "volume_mm3",
        "extents_mm",
        "units_guess",
        "problems",
    ]
    assert data["volume_mm3"] is None
    assert {p["code"] for p in data["problems"]} == {"open_shell", SEVERAL}
    assert all(set(p) == {"code", "message"} for p in data["problems"])


def test_a_bigger_printer_makes_a_part_fit_in_any_orientation() -> None:
    mesh = load_mesh(MODELS / "plate_holes.STL")
    assert TOO_BIG in analyze(mesh).problem_codes
    assert analyze(mesh, printers=[(320.0, 220.0, 20.0)]).ok  # lying flat fits
    assert analyze(mesh, printers=[(220.0, 20.0, 320.0)]).ok  # standing on its edge fits
    assert (
        TOO_BIG in analyze(mesh, printers=[*DEFAULT_PRINTERS, (300.0, 300.0, 300.0)]).problem_codes
    )
    assert TOO_BIG not in analyze(mesh, printers=()).problem_codes


# --- units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extents", "drawn_in", "numbers_in"),
    [
        ((20.0, 20.0, 20.0), "mm", "mm"),
        ((0.047, 0.044, 0.014), "m", "m"),
        ((5.0, 2.5, 1.375), "inch", "inch"),
        ((203.2, 304.8, 12.7), "inch", "mm"),  # 8 × 12 × ½ in exported in mm
        ((127.0, 127.0, 127.0), "mm", "mm"),  # 5 in, but also whole millimetres
        ((304.8, 304.409, 25.838), "mm", "mm"),
        ((0.0, 0.0, 0.0), "mm", "mm"),
    ],
)
def test_guess_units(extents: tuple[float, float, float], drawn_in: str, numbers_in: str) -> None:
    assert guess_units(extents) == (drawn_in, numbers_in)


def test_declared_units_win_over_the_guess() -> None:
    assert guess_units((5.0, 5.0, 5.0), numbers_unit="mm") == ("mm", "mm")
    assert guess_units((127.0, 63.5, 34.925), numbers_unit="mm", declared="inch") == ("inch", "mm")


def test_rescale_turns_inches_and_metres_into_millimetres() -> None:
    inch = load_mesh(MODELS / "featuretype.STL")
    report = analyze(inch)
    scaled = rescale(inch, report.file_units)
    after = analyze(scaled)
    assert after.extents_mm == pytest.approx((127.0, 63.5, 34.925), abs=1e-3)
    assert (after.units_guess, after.file_units) == ("inch", "mm")
    assert after.volume_mm3 == pytest.approx((report.volume_mm3 or 0) * 25.4**3, rel=1e-5)
    assert after.ok
    metres = load_mesh(MODELS / "ADIS16480.STL")
    after = analyze(rescale(metres, analyze(metres).file_units))
    assert after.extents_mm == pytest.approx((44.0, 14.0, 47.0), abs=1e-3)
    assert (after.units_guess, after.file_units, after.ok) == ("m", "mm", True)
    assert len(metres.vertices) == len(rescale(metres, "m").vertices)  # the input is untouched
    assert analyze(metres).extents_mm == pytest.approx((0.044, 0.014, 0.047))


def test_rescale_of_a_part_already_in_millimetres_changes_no_number() -> None:
    plate = load_mesh(MODELS / "plate_holes.STL")
    same = rescale(plate, analyze(plate).file_units)
    assert np.array_equal(same.vertices, plate.vertices)
    assert analyze(same).units_guess == "inch"
    with pytest.raises(ValueError, match="unknown units"):
        rescale(plate, "cm")  # type: ignore[arg-type]


def test_a_3mf_in_inches_is_converted_on_loading() -> None:
    report = analyze(load_mesh(cube_3mf(unit="inch")))
    assert report.extents_mm == pytest.approx((254.0, 254.0, 254.0))
    assert (report.units_guess, report.file_units) == ("inch", "mm")
    micron = analyze(load_mesh(cube_3mf(unit="micron")))
    assert micron.extents_mm == pytest.approx((0.01, 0.01, 0.01))
    assert micron.file_units == "mm"


def test_3mf_build_transforms_are_applied() -> None:
    moved = analyze(load_mesh(cube_3mf(transform="2 0 0 0 2 0 0 0 2 100 0 0")))
    assert moved.extents_mm == pytest.approx((20.0, 20.0, 20.0))
    assert moved.volume_mm3 == pytest.approx(8000.0)


def test_3mf_components_and_parts_in_other_files() -> None:
    resources = (
        mesh_object(1)
        + '<object id="2" type="model"><components>'
        + '<component objectid="1"/><component objectid="1" transform="1 0 0 0 1 0 0 0 1 50 0 0"/>'
        + '<component p:path="/3D/Objects/other.model" objectid="7" '
        + 'transform="1 0 0 0 1 0 0 0 1 0 50 0"/>'
        + "</components></object>"
    )
    other = model_xml(mesh_object(7), "")
    package = package_3mf(
        model_xml(resources, '<item objectid="2"/>'), extra={"3D/Objects/other.model": other}
    )
    report = analyze(load_mesh(package))
    assert (report.faces, report.bodies) == (36, 3)
    assert report.extents_mm == pytest.approx((60.0, 60.0, 10.0))
    assert report.volume_mm3 == pytest.approx(3000.0)


# --- hostile and broken input ----------------------------------------------------------------


def timed_refusal(
    error: type[Exception], action: object, match: str | None = None, limit_s: float = 1.0
) -> None:
    assert callable(action)
    start = time.perf_counter()
    with pytest.raises(error, match=match):
        action()
    assert time.perf_counter() - start < limit_s


def test_nan_and_infinite_coordinates_in_an_ascii_stl(tmp_path: Path) -> None:
    triangles = cube_triangles()
    triangles.append([(0.0, 0.0, 0.0), (math.nan, 1.0, 0.0), (0.0, 1.0, 1.0)])
    triangles.append([(0.0, 0.0, 0.0), (1.0, math.inf, 0.0), (0.0, 1.0, 1.0)])
    triangles.append([(0.0, 0.0, 0.0), (1.0, 0.0, -math.inf), (0.0, 1.0, 1.0)])
    path = tmp_path / "nan.stl"
    path.write_bytes(ascii_stl(triangles))
    assert b"vertex 1.0 0.0 -inf" in path.read_bytes() and b"nan" in path.read_bytes()
    assert check_file(path).fmt == "stl_ascii"
    report = analyze(load_mesh(path))
    assert "nan_coordinates" in report.problem_codes
    assert not report.ok
    assert report.faces == 12  # the cube itself is measured
    assert report.watertight
    assert report.volume_mm3 == pytest.approx(1000.0)
    assert all(math.isfinite(v) for v in report.extents_mm)
    repaired, done = repair(load_mesh(path))
    assert done == ["Left out 3 triangles whose corners were not numbers."]
    assert analyze(repaired).ok


def test_nan_only_file_is_empty_and_says_why() -> None:
    data = binary_stl([[[math.nan, 0, 0], [0, math.nan, 0], [0, 0, math.nan]]])
    report = analyze(load_mesh(data))
    assert report.problem_codes == {"empty", "nan_coordinates"}
    assert report.as_json()["extents_mm"] == [0.0, 0.0, 0.0]


def test_huge_coordinates_are_reported_and_json_stays_finite() -> None:
    triangles = cube_triangles(size=1e30)
    report = analyze(load_mesh(binary_stl(triangles)))
    assert "huge_coordinates" in report.problem_codes
    assert TOO_BIG in report.problem_codes
    import json

    json.dumps(report.as_json(), allow_nan=False)


def test_a_truncated_binary_stl_cannot_be_loaded() -> None:
    whole = (MODELS / "20mm-xyz-cube.stl").read_bytes()
    timed_refusal(IntakeError, lambda: load_mesh(whole[:-37]))
    timed_refusal(MeshError, lambda: load_mesh(whole[:-37], "stl_binary"), match="cut short")
    timed_refusal(MeshError, lambda: load_mesh(whole[:50], "stl_binary"), match="84-byte")


def test_random_bytes_and_empty_bytes_are_refused() -> None:
    timed_refusal(IntakeError, lambda: load_mesh(random_bytes(1 << 20)))
    timed_refusal(IntakeError, lambda: load_mesh(b""), match="empty")
    for fmt in ("stl_binary", "stl_ascii", "obj", "3mf"):
        timed_refusal(IntakeError, lambda fmt=fmt: load_mesh(random_bytes(100_000), fmt))


def test_a_zip_bomb_never_reaches_the_parser(zip_bomb: bytes) -> None:
    timed_refusal(UnsafePackage, lambda: load_mesh(zip_bomb), match="zip bomb", limit_s=0.5)


@pytest.mark.parametrize(
    ("data", "fmt", "match"),
    [
        (b"solid x\n facet\n vertex 1 2\n vertex 1 2 3\n vertex 3 2 1\n", "stl_ascii", "three"),
        (
            b"solid x\n facet\n vertex 1 2 3\n vertex 1 2 3\n endsolid x\n",
            "stl_ascii",
            "middle of a triangle",
        ),
        (b"solid x\n vertex 1 2 3\n vertex a b c\n vertex 1 1 1\nendsolid", "stl_ascii", "number"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "obj", "vertex 9"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "obj", "start at 1"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf -4 -2 -1\n", "obj", "defines only 3"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", "obj", "not a vertex number"),
        (b"v 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "obj", "three coordinates"),
        (b"v 0 0 zero\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "obj", "not a number"),
    ],
)
def test_broken_text_meshes_are_refused_with_a_reason(data: bytes, fmt: str, match: str) -> None:
    timed_refusal(MeshError, lambda: load_mesh(data, fmt), match=match)  # type: ignore[arg-type]


def broken_3mf(resources: str, build: str = '<item objectid="1"/>', prolog: str = "") -> bytes:
    return package_3mf(model_xml(resources, build, prolog=prolog))


@pytest.mark.parametrize(
    ("package", "error", "match"),
    [
        (
            broken_3mf(
                mesh_object(1),
                prolog='<!DOCTYPE model [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>',
            ),
            UnsafePackage,
            "DTD",
        ),
        (
            broken_3mf(
                '<object id="1"><components><component objectid="1"/></components></object>'
            ),
            MeshError,
            "loop",
        ),
        (broken_3mf(mesh_object(1), '<item objectid="5"/>'), MeshError, "does not define"),
        (
            broken_3mf(
                '<object id="1"><mesh><vertices><vertex x="0" y="0" z="0"/></vertices>'
                '<triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object>'
            ),
            MeshError,
            "vertex it does not define",
        ),
        (
            broken_3mf(
                '<object id="1"><mesh><vertices><vertex x="0" y="0" z="0"/></vertices>'
                '<triangles><triangle v1="0" v2="zero" v3="0"/></triangles></mesh></object>'
            ),
            MeshError,
            "missing or wrong",
        ),
        (broken_3mf(mesh_object(1), '<item objectid="1" transform="1 2 3"/>'), MeshError, "12"),
        (package_3mf(b"<model><unclosed></model>"), MeshError, "cannot be read"),
        (
            package_3mf(model_xml(mesh_object(1), '<item objectid="1"/>', unit="furlong")),
            MeshError,
            "unit",
        ),
    ],
)
def test_broken_and_hostile_3mf_are_refused(
    package: bytes, error: type[Exception], match: str
) -> None:
    timed_refusal(error, lambda: load_mesh(package), match=match)


def test_a_3mf_component_explosion_is_counted_before_placing() -> None:
    # 30 levels, each placing the level below twice: 2^30 cubes if expanded.
    levels = [mesh_object(1)]
    for level in range(2, 32):
        child = level - 1
        levels.append(
            f'<object id="{level}"><components><component objectid="{child}"/>'
            f'<component objectid="{child}" transform="1 0 0 0 1 0 0 0 1 1 0 0"/>'
            "</components></object>"
        )
    package = broken_3mf("".join(levels), '<item objectid="31"/>')
    timed_refusal(IntakeError, lambda: load_mesh(package), limit_s=2.0)


@pytest.mark.parametrize(
    "data",
    [
        binary_stl(cube_triangles()),
        ascii_stl(cube_triangles()),
        b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\n" + b"f 1 2 3\n" * 20,
        b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf "
        + b" ".join(b"%d" % (i % 4 + 1) for i in range(40)),
        cube_3mf(),
    ],
)
def test_the_face_limit_is_checked_before_building(data: bytes) -> None:
    timed_refusal(TooManyFaces, lambda: load_mesh(data, max_faces=10), match="handles up to 10")


def test_the_size_limit_applies_to_load_mesh(tmp_path: Path) -> None:
    path = tmp_path / "big.stl"
    with path.open("wb") as fh:
        fh.truncate(300 * 1024 * 1024)
    timed_refusal(IntakeError, lambda: load_mesh(path), match="200.0 MB", limit_s=0.2)
    timed_refusal(IntakeError, lambda: load_mesh(b"solid\nendsolid\n", max_bytes=4))


def test_load_mesh_does_not_hang_on_pathological_text() -> None:
    blank_lines = b"solid x\n" + b"\n" * (8 << 20) + b"endsolid x\n"
    start = time.perf_counter()
    report = analyze(load_mesh(blank_lines, "stl_ascii"))
    assert time.perf_counter() - start < 2.0
    assert report.problem_codes == {"empty"}
    long_line = b"solid x\n" + b"vertex " + b" " * (4 << 20) + b"1 2 3\nendsolid"
    timed_refusal(MeshError, lambda: load_mesh(long_line, "stl_ascii"), limit_s=2.0)


def test_obj_polygons_are_fanned_and_degenerate_faces_counted() -> None:
    quad = b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\nf 1 2\nf 1 1 2\n"
    mesh = load_mesh(quad)
    report = analyze(mesh)
    assert report.faces == 3
    assert "degenerate_faces" in report.problem_codes
    repaired, done = repair(mesh)
    assert done[:2] == [
        "Left out 1 face with fewer than three corners.",
        "Removed 1 triangle without area.",
    ]
    assert "degenerate_faces" not in analyze(repaired).problem_codes


# --- repair ----------------------------------------------------------------------------------


def cube_mesh(faces: np.ndarray | None = None) -> trimesh.Trimesh:
    return trimesh.Trimesh(
        np.array(CUBE_CORNERS, dtype=float),
        np.array(CUBE_FACES) if faces is None else faces,
        process=False,
    )


def test_repair_of_a_sound_part_does_nothing() -> None:
    mesh = load_mesh(MODELS / "20mm-xyz-cube.stl")
    repaired, done = repair(mesh)
    assert done == []
    assert analyze(repaired) == analyze(mesh)


def test_repair_makes_faces_agree_and_turns_inside_out_parts() -> None:
    faces = np.array(CUBE_FACES)
    faces[::3] = faces[::3, ::-1]
    repaired, done = repair(cube_mesh(faces))
    assert done == ["Turned 4 triangles so neighbouring faces agree."]
    assert trimesh.Trimesh(repaired.vertices, repaired.faces).volume == pytest.approx(1000.0)
    inside_out, done = repair(cube_mesh(np.array(CUBE_FACES)[:, ::-1]))
    assert done == ["Turned 1 inside-out body right side out."]
    assert trimesh.Trimesh(inside_out.vertices, inside_out.faces).volume == pytest.approx(1000.0)


def test_repair_leaves_a_cavity_facing_inwards() -> None:
    outer = trimesh.creation.box((30, 30, 30))
    inner = trimesh.creation.box((10, 10, 10))
    hollow = trimesh.Trimesh(
        np.vstack([outer.vertices, inner.vertices]),
        np.vstack([outer.faces, inner.faces[:, ::-1] + len(outer.vertices)]),
        process=False,
    )
    repaired, done = repair(hollow)
    assert done == []
    assert analyze(repaired).volume_mm3 == pytest.approx(26000.0)


def test_repair_fills_a_small_hole_and_cleans_duplicates() -> None:
    faces = np.vstack([np.array(CUBE_FACES)[1:], np.array(CUBE_FACES)[2:4], [[0, 0, 1]]])
    holed = cube_mesh(faces)
    before = analyze(holed)
    assert not before.watertight
    repaired, done = repair(holed)
    assert done == [
        "Removed 1 triangle without area.",
        "Removed 2 duplicate triangles.",
        "Filled small holes with 1 triangle.",
    ]
    after = analyze(repaired)
    assert after.watertight and after.ok
    assert after.volume_mm3 == pytest.approx(1000.0)


def test_repair_does_not_invent_volume_for_triangle_soup() -> None:
    soup = load_mesh(MODELS / "soup.stl")
    repaired, done = repair(soup)
    assert done == []
    assert not analyze(repaired).watertight


def test_repair_of_the_teapot_keeps_it_honest() -> None:
    repaired, _ = repair(load_mesh(MODELS / "teapot.stl"))
    assert "open_shell" in analyze(repaired).problem_codes  # its holes are not small


def test_repair_keeps_units_and_does_not_touch_its_input() -> None:
    mesh = rescale(load_mesh(MODELS / "featuretype.STL"), "inch")
    vertices = mesh.vertices.copy()
    repaired, _ = repair(mesh)
    assert np.array_equal(mesh.vertices, vertices)
    assert analyze(repaired).file_units == "mm"
    assert analyze(repaired).units_guess == "inch"


def test_repair_refuses_more_faces_than_the_limit() -> None:
    with pytest.raises(TooManyFaces):
        repair(cube_mesh(), max_faces=5)


def test_a_large_part_loads_analyses_and_repairs_in_seconds() -> None:
    # 200,000 faces with every third face flipped: trimesh's fix_normals takes minutes here.
    around, tube = 400, 250
    u = np.linspace(0, 2 * np.pi, around, endpoint=False)
    v = np.linspace(0, 2 * np.pi, tube, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ring = 60 + 20 * np.cos(vv)
    points = np.stack([ring * np.cos(uu), ring * np.sin(uu), 20 * np.sin(vv)], -1).reshape(-1, 3)
    i, j = np.arange(around)[:, None], np.arange(tube)[None, :]
    a, b = i * tube + j, ((i + 1) % around) * tube + j
    c, d = ((i + 1) % around) * tube + (j + 1) % tube, i * tube + (j + 1) % tube
    faces = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)]).reshape(-1, 3)
    faces[::3] = faces[::3, ::-1]
    data = binary_stl(points[faces].tolist())
    start = time.perf_counter()
    mesh = load_mesh(data)
    report = analyze(mesh)
    repaired, done = repair(mesh)
    assert time.perf_counter() - start < 30
    assert report.faces == 200_000 and report.watertight
    assert done and "neighbouring faces agree" in done[0]
    fixed = analyze(repaired)
    assert fixed.volume_mm3 == pytest.approx(2 * np.pi**2 * 60 * 20**2, rel=1e-2)


# --- no input breaks it ----------------------------------------------------------------------

SEEDS = {
    "stl_binary": binary_stl(cube_triangles()),
    "stl_ascii": ascii_stl(cube_triangles()),
    "obj": (MODELS / "negative_indices.obj").read_bytes(),
    "3mf": cube_3mf(),
}


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    fmt=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=0, max_size=8)),
        max_size=6,
    ),
    cut=st.floats(0.0, 1.0),
)
def test_mutated_files_give_a_report_or_a_readable_refusal(
    fmt: str, edits: list[tuple[float, bytes]], cut: float
) -> None:
    data = bytearray(SEEDS[fmt])
    for where, replacement in edits:
        at = int(where * len(data))
        data[at : at + len(replacement)] = replacement
    data = data[: max(1, int(len(data) * cut))] if cut < 0.95 else data
    start = time.perf_counter()
    try:
        report = analyze(load_mesh(bytes(data)))
    except IntakeError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
    else:
        assert report.faces >= 0
        import json

        json.dumps(report.as_json(), allow_nan=False)
    assert time.perf_counter() - start < 5.0

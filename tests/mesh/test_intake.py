"""Intake checks: safe names, type by content, size limit, and 3MF packages that try to explode."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from core.errors import InvalidInput
from core.mesh.intake import (
    HEAD_BYTES,
    MAX_FILENAME_CHARS,
    BrokenPackage,
    FileTooLarge,
    IntakeError,
    UnreadableFile,
    UnsafePackage,
    UnsupportedFormat,
    check_file,
    check_size,
    default_max_bytes,
    inspect_3mf,
    read_3mf,
    safe_filename,
    sniff_format,
)
from tests.mesh.builders import (
    MODELS,
    ascii_stl,
    binary_stl,
    cube_3mf,
    cube_triangles,
    lying_zip_3mf,
    package_3mf,
    random_bytes,
)

pytestmark = pytest.mark.timeout(60)

MB = 1024 * 1024


def sniff(data: bytes) -> str:
    return sniff_format(data[:HEAD_BYTES], len(data))


# --- safe names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("bracket.stl", "bracket.stl"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\evil.stl", "evil.stl"),
        ("C:\\Users\\ann\\Desktop\\part v2.3mf", "part v2.3mf"),
        ("/abs/path/to/part.obj", "part.obj"),
        ("..", "file"),
        ("...", "file"),
        ("", "file"),
        ("/", "file"),
        (".hidden.stl", "hidden.stl"),
        ("....stl", "stl"),
        ("part.stl.", "part.stl"),
        ("part.stl   ", "part.stl"),
        ("CON", "_CON"),
        ("con.stl", "_con.stl"),
        ("LPT1.obj", "_LPT1.obj"),
        ("nul .stl", "_nul.stl"),
        ("console.stl", "console.stl"),
        ("a\x00b\x1fc\x7f.stl", "abc.stl"),
        ("tab\tand\nnewline.stl", "tabandnewline.stl"),
        ("invoice\u202egpj.stl", "invoicegpj.stl"),  # right-to-left override removed
        ('what?<>:"|*.stl', "what_______.stl"),
        ("100% infill #2.stl", "100_ infill _2.stl"),
        ("..\u2215..\u2215secret.stl", "_.._secret.stl"),  # division slashes
        ("\uff0e\uff0e\uff0fetc\uff0fpasswd", "passwd"),  # fullwidth ./ fold to ./ first
        ("\u2025/x.stl", "x.stl"),  # two-dot leader folds to ".."
        ("Ünïcödé Teil.stl", "Ünïcödé Teil.stl"),
        ("  spaced   out  .stl", "spaced out.stl"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_safe_filename_keeps_the_extension_when_cutting_long_names() -> None:
    name = safe_filename("x" * 500 + ".stl")
    assert len(name) == MAX_FILENAME_CHARS
    assert name.endswith(".stl")
    wide = safe_filename("模" * 300 + ".3mf")  # 3 bytes a character in UTF-8
    assert wide.endswith(".3mf")
    assert len(wide) <= MAX_FILENAME_CHARS
    assert len(wide.encode()) <= 240
    huge = safe_filename("a/" * 100_000 + "b" * 1_000_000)  # quick even when enormous
    assert huge == "b" * MAX_FILENAME_CHARS


@pytest.mark.parametrize(
    "hostile",
    [
        "../../../etc/passwd",
        "..",
        ".",
        "a/../../b",
        "..\\..\\",
        "....//....//",
        "%2e%2e%2fsecret",
        "\u2025",
        "\uff0e\uff0e",
        "\x00",
        "/" * 50,
        "." * 300,
        "COM1",
        "x" * 10_000,
    ],
)
def test_a_safe_name_never_leaves_its_folder(hostile: str) -> None:
    name = safe_filename(hostile)
    assert name
    assert name not in {".", ".."}
    assert "/" not in name
    assert "\\" not in name
    assert not name.startswith(".")
    assert len(name) <= MAX_FILENAME_CHARS
    key = PurePosixPath("tmp/user-1/1234") / name
    assert key.parent == PurePosixPath("tmp/user-1/1234")
    assert ".." not in key.parts


# --- type by content -------------------------------------------------------------------------

EXPECTED_FORMATS = {
    "1002_tray_bottom.STL": "stl_ascii",
    "20mm-xyz-cube.stl": "stl_binary",
    "ADIS16480.STL": "stl_ascii",
    "busted.STL": "stl_binary",
    "counter.unitsmm.STL": "stl_binary",
    "counterX.3MF": "3mf",
    "cube_and_sphere_same_name.3mf": "3mf",
    "empty.stl": "stl_ascii",
    "featuretype.STL": "stl_binary",
    "fuze.obj": "obj",
    "idler_riser.STL": "stl_binary",
    "multibody.stl": "stl_ascii",
    "nancolor.obj": "obj",
    "negative_indices.obj": "obj",
    "notenoughindices.obj": "obj",
    "octagonal_pocket.stl": "stl_binary",
    "plate_holes.STL": "stl_binary",
    "pyramids.3mf": "3mf",
    "rabbit.obj": "obj",
    "soup.stl": "stl_binary",
    "teapot.stl": "stl_binary",
    "wallhole.obj": "obj",
}


@pytest.mark.parametrize(("name", "fmt"), sorted(EXPECTED_FORMATS.items()))
def test_every_shared_model_passes_intake_with_its_format(name: str, fmt: str) -> None:
    checked = check_file(MODELS / name)
    assert checked.fmt == fmt
    assert checked.filename == name
    assert checked.size_bytes == (MODELS / name).stat().st_size


def test_the_table_covers_every_shared_model() -> None:
    on_disk = {p.name for p in MODELS.iterdir() if p.name != "README.md"}
    assert on_disk == set(EXPECTED_FORMATS)


def test_binary_stl_whose_header_starts_with_solid_is_binary() -> None:
    data = binary_stl(cube_triangles(), header=b"solid part exported by CAD")
    assert data.startswith(b"solid")
    assert sniff(data) == "stl_binary"
    assert (MODELS / "idler_riser.STL").read_bytes().startswith(b"solid")


def test_ascii_stl_and_obj_are_told_by_content_not_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "model.3mf"
    misnamed.write_bytes(ascii_stl(cube_triangles()))
    assert check_file(misnamed).fmt == "stl_ascii"
    obj = tmp_path / "model.stl"
    obj.write_bytes(b"# comment\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    assert check_file(obj).fmt == "obj"
    package = tmp_path / "cube.stl"
    package.write_bytes(cube_3mf())
    assert check_file(package).fmt == "3mf"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(200), "PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"),
        (b"ISO-10303-21;\nHEADER;\n", "STEP"),
        (b"ply\nformat ascii 1.0\n", "PLY"),
        (b"Hello, this is a letter.\nRegards\n", "not a 3D model"),
        (b"solid but then just prose without any triangles\n", "not a 3D model"),
        (b"PK\x05\x06" + bytes(18), "empty or split ZIP"),
        (b"v 1 2\nf 1 2 3\n", "not a 3D model"),
    ],
)
def test_sniff_refuses_what_is_not_a_mesh(data: bytes, words: str) -> None:
    with pytest.raises(UnsupportedFormat, match=words):
        sniff(data)


def test_random_bytes_are_refused_quickly() -> None:
    data = random_bytes(2 * MB)
    start = time.perf_counter()
    with pytest.raises(UnsupportedFormat, match="not a 3D model"):
        sniff(data)
    assert time.perf_counter() - start < 0.5


def test_a_truncated_binary_stl_is_refused_with_its_reason(tmp_path: Path) -> None:
    whole = (MODELS / "20mm-xyz-cube.stl").read_bytes()
    cut = tmp_path / "cut.stl"
    cut.write_bytes(whole[: len(whole) - 37])
    with pytest.raises(UnsupportedFormat, match=r"cut short.*260 triangles"):
        check_file(cut)


def test_a_header_promising_200_mb_of_triangles_is_refused_without_reading() -> None:
    header = b"\0" * 80 + struct.pack("<I", 4_200_000)  # 210 MB promised
    with pytest.raises(UnsupportedFormat, match="4,200,000 triangles"):
        sniff_format(header + bytes(5000)[:HEAD_BYTES], 84 + 5000 * 50)


def test_sniff_is_linear_on_pathological_text() -> None:
    digits = b"v " + b"1" * (HEAD_BYTES - 10) + b"x"
    lines = b"\n" * (5 * MB)
    spaces = b"solid" + b" " * (HEAD_BYTES - 5)
    for data in (digits, lines, spaces):
        start = time.perf_counter()
        with pytest.raises(UnsupportedFormat):
            sniff(data)
        assert time.perf_counter() - start < 1.0


# --- size ------------------------------------------------------------------------------------


def test_the_default_limit_is_the_shop_setting_of_200_mb() -> None:
    assert default_max_bytes() == 200 * MB
    check_size(200 * MB)
    with pytest.raises(FileTooLarge, match=r"200\.0 MB"):
        check_size(200 * MB + 1)
    with pytest.raises(FileTooLarge):
        check_size(11, max_bytes=10)


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    claimed = tmp_path / "huge.stl"
    with claimed.open("wb") as fh:  # sparse: claims 201 MB, stores nothing
        fh.truncate(201 * MB)
    start = time.perf_counter()
    with pytest.raises(FileTooLarge, match=r"201\.0 MB"):
        check_file(claimed)
    assert time.perf_counter() - start < 0.2


def test_missing_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="does not exist"):
        check_file(tmp_path / "nope.stl")
    with pytest.raises(UnreadableFile, match="not a regular file"):
        check_file(tmp_path)
    empty = tmp_path / "empty.stl"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedFormat, match="empty"):
        check_file(empty)


def test_intake_errors_are_value_errors_and_service_refusals() -> None:
    with pytest.raises(ValueError):
        check_size(2, max_bytes=1)
    with pytest.raises(InvalidInput):
        check_size(2, max_bytes=1)
    assert issubclass(UnsafePackage, IntakeError)


# --- 3MF packages ----------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_in_well_under_a_second(tmp_path: Path, zip_bomb: bytes) -> None:
    bomb = zip_bomb  # a 1 GiB model part in a 1 MB package
    assert zipfile.ZipFile(io.BytesIO(bomb)).infolist()[0].file_size == 1 << 30
    path = tmp_path / "bomb.3mf"
    path.write_bytes(bomb)
    for attempt in (lambda: check_file(path), lambda: read_3mf(bomb), lambda: inspect_3mf(path)):
        start = time.perf_counter()
        with pytest.raises(UnsafePackage, match="zip bomb"):
            attempt()
        assert time.perf_counter() - start < 0.5


def test_the_total_uncompressed_size_is_limited() -> None:
    package = package_3mf(b"<model/>", extra={"Metadata/big.bin": random_bytes(3 * MB)})
    with pytest.raises(UnsafePackage, match=r"more than 2\.0 MB"):
        read_3mf(package, max_uncompressed=2 * MB)


def test_a_package_that_lies_about_sizes_is_refused() -> None:
    with pytest.raises((BrokenPackage, UnsafePackage)):
        read_3mf(lying_zip_3mf())


def test_a_zip_without_a_model_is_not_a_3mf() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    data = buffer.getvalue()
    assert sniff(data) == "3mf"
    with pytest.raises(BrokenPackage, match="not a 3MF"):
        read_3mf(data)


def test_a_damaged_or_encrypted_package_is_refused() -> None:
    package = cube_3mf()
    with pytest.raises(BrokenPackage, match="damaged"):
        read_3mf(package[: len(package) // 2])
    encrypted = bytearray(package)
    central = encrypted.find(b"PK\x01\x02")
    while central >= 0:
        encrypted[central + 8] |= 0x01  # the "encrypted" flag bit
        central = encrypted.find(b"PK\x01\x02", central + 4)
    with pytest.raises(BrokenPackage, match="encrypted"):
        read_3mf(bytes(encrypted))


def test_read_3mf_returns_only_the_xml_parts() -> None:
    parts = read_3mf((MODELS / "counterX.3MF").read_bytes())
    assert set(parts) == {"3D/3dmodel.model", "_rels/.rels"}  # no thumbnail decompressed
    assert parts["3D/3dmodel.model"].lstrip().startswith(b"<?xml")

"""Small model files built in the tests: STL, 3MF packages, and hostile ZIPs."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parents[2] / ".." / "shared" / "models"

Triangle = Sequence[Sequence[float]]

CUBE_CORNERS = [(x, y, z) for x in (0.0, 10.0) for y in (0.0, 10.0) for z in (0.0, 10.0)]
# A closed 10 mm cube, outward facing (corner index = 4x + 2y + z).
CUBE_FACES = [
    (0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
    (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3),
]  # fmt: skip


def cube_triangles(size: float = 10.0, offset: float = 0.0) -> list[Triangle]:
    scale = size / 10.0
    return [
        [tuple(c * scale + offset for c in CUBE_CORNERS[i]) for i in face] for face in CUBE_FACES
    ]


def binary_stl(triangles: Iterable[Triangle], header: bytes = b"printdesk test") -> bytes:
    body = b"".join(
        struct.pack("<3f", 0.0, 0.0, 0.0)
        + b"".join(struct.pack("<3f", *corner) for corner in triangle)
        + b"\0\0"
        for triangle in triangles
    )
    count = len(body) // 50
    return header.ljust(80, b"\0")[:80] + struct.pack("<I", count) + body


def ascii_stl(triangles: Iterable[Triangle], name: str = "part") -> bytes:
    lines = [f"solid {name}"]
    for triangle in triangles:
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {x} {y} {z}" for x, y, z in triangle]
        lines += ["    endloop", "  endfacet"]
    lines.append(f"endsolid {name}")
    return ("\n".join(lines) + "\n").encode()


CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
PROD_NS = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
)


def mesh_object(object_id: int, triangles: Sequence[Triangle] | None = None) -> str:
    """A 3MF <object> with a mesh of the given triangles (default: the 10 mm cube)."""
    if triangles is None:
        vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in CUBE_CORNERS)
        faces = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in CUBE_FACES)
    else:
        corners = [corner for triangle in triangles for corner in triangle]
        vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in corners)
        faces = "".join(
            f'<triangle v1="{3 * i}" v2="{3 * i + 1}" v3="{3 * i + 2}"/>'
            for i in range(len(triangles))
        )
    return (
        f'<object id="{object_id}" type="model"><mesh><vertices>{vertices}</vertices>'
        f"<triangles>{faces}</triangles></mesh></object>"
    )


def model_xml(resources: str, build: str, unit: str = "millimeter", prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<model unit="{unit}" xmlns="{CORE_NS}" xmlns:p="{PROD_NS}">'
        f"<resources>{resources}</resources><build>{build}</build></model>"
    ).encode()


def package_3mf(model: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("3D/3dmodel.model", model)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def cube_3mf(unit: str = "millimeter", transform: str | None = None) -> bytes:
    item = (
        '<item objectid="1"/>'
        if transform is None
        else f'<item objectid="1" transform="{transform}"/>'
    )
    return package_3mf(model_xml(mesh_object(1), item, unit=unit))


def zip_bomb_3mf(uncompressed: int = 1 << 30) -> bytes:
    """A ZIP whose 3D/3dmodel.model inflates to `uncompressed` zero bytes (1 GiB by default).

    Built directly: one megabyte of zeros deflated with a full flush is a self-contained run
    of blocks, so it can be repeated; the archive is about a megabyte and takes well under a
    second to make, instead of deflating a gigabyte.
    """
    chunk = 1 << 20
    assert uncompressed % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeats = uncompressed // chunk
    stream = segment * repeats + b"\x03\x00"  # a final, empty fixed-Huffman block
    crc = 0
    zeros = bytes(chunk)
    for _ in range(repeats):
        crc = zlib.crc32(zeros, crc)
    name = b"3D/3dmodel.model"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(stream), uncompressed, len(name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(stream), uncompressed, len(name),
        0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    body = local + name + stream
    directory = central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def lying_zip_3mf() -> bytes:
    """A 3MF whose model part declares 1,000 bytes but inflates to 10 MB."""
    data = bytearray(package_3mf(b"\0" * (10 * 1024 * 1024)))
    name = b"3D/3dmodel.model"
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        if data[local + 30 : local + 30 + len(name)] == name:
            struct.pack_into("<I", data, local + 22, 1000)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        if data[central + 46 : central + 46 + len(name)] == name:
            struct.pack_into("<I", data, central + 24, 1000)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def random_bytes(size: int, seed: int = 4) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()

"""Checks a client's file must pass before anything is stored: size, type by content, safe name.

Nothing here trusts the file's name or extension. The type comes from the bytes themselves, the
size from the file system before a byte is read, and a 3MF package (a ZIP) is opened with limits
on what it may expand to, so a zip bomb is refused from its directory alone.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

from core.errors import InvalidInput
from core.shop_settings import ShopSettings

MeshFormat = Literal["stl_binary", "stl_ascii", "obj", "3mf"]
MESH_FORMATS: Final[tuple[MeshFormat, ...]] = get_args(MeshFormat)

#: How much of a file `sniff_format` looks at; enough for any header and the first OBJ lines.
HEAD_BYTES: Final = 64 * 1024

MAX_FILENAME_CHARS: Final = 120
# Most file systems cap a name at 255 bytes; stay well below so a suffix still fits.
_MAX_FILENAME_BYTES: Final = 240

# 3MF limits. Mesh XML compresses about 5-10 times; 100 leaves room for very regular meshes
# and still refuses zeros (about 1000 times) at once. Parts smaller than the ratio floor
# cannot be bombs whatever their ratio.
DEFAULT_3MF_MAX_UNCOMPRESSED: Final = 1024 * 1024 * 1024
DEFAULT_3MF_MAX_RATIO: Final = 100.0
_RATIO_FLOOR_BYTES: Final = 1024 * 1024
_3MF_MAX_MEMBERS: Final = 10_000
_READ_CHUNK: Final = 1024 * 1024


class IntakeError(InvalidInput, ValueError):
    """A file refused at intake; ``str(error)`` is a sentence staff can read to the client."""

    exit_code = 2


class FileTooLarge(IntakeError):
    pass


class UnsupportedFormat(IntakeError):
    pass


class UnreadableFile(IntakeError):
    """The file could not be opened or read at all (missing, no permission, I/O error)."""


class UnsafePackage(IntakeError):
    """A 3MF package that would expand beyond the limits (a zip bomb, or simply too much)."""


class BrokenPackage(IntakeError):
    """A ZIP that is damaged, encrypted, or not a 3MF package."""


def default_max_bytes() -> int:
    """The upload limit of a fresh install (shop setting ``max_upload_mb``, 200 MB)."""
    return ShopSettings().max_upload_mb * 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_size(size: int, max_bytes: int | None = None) -> None:
    """Refuse a file over the upload limit; called with the size the file system reports."""
    limit = default_max_bytes() if max_bytes is None else max_bytes
    if size < 0:
        raise UnreadableFile("The file's size could not be determined.")
    if size > limit:
        raise FileTooLarge(
            f"The file is {_megabytes(size)}; the shop accepts files up to {_megabytes(limit)}."
        )


# ---------------------------------------------------------------------------------------------
# Safe names

_WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
# Illegal on Windows, meaningful in a URL or a storage key (percent-escapes, fragments), or
# slashes in disguise that NFKC leaves alone (division slash, fraction slash, set minus).
_UNSAFE_CHARS: Final = re.compile(r'[<>:"|?*%#\x00-\x1f\x7f\u2044\u2215\u2216\u29f8\u29f9]')
_SPACES: Final = re.compile(r"\s+")
_EXTENSION: Final = re.compile(r"\.[A-Za-z0-9]{1,16}$")


def safe_filename(name: str) -> str:
    """A name that is safe as the last part of a storage key and on any desktop file system.

    Keeps only the last path part (``/`` and ``\\`` both count), drops control and invisible
    format characters (such as right-to-left overrides that disguise an extension), replaces
    characters Windows or URLs cannot take, strips leading dots and trailing dots and spaces,
    defuses reserved Windows device names, and limits the length to 120 characters while keeping
    the extension. The result is never empty, never ``.`` or ``..``, and holds no separator, so a
    key built as ``bucket/prefix/{name}`` cannot leave its folder.
    """
    # NFKC first: it folds look-alikes such as the fullwidth solidus or the two-dot leader
    # into "/" and "..", which the next steps then treat as what they are.
    text = unicodedata.normalize("NFKC", str(name))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = _UNSAFE_CHARS.sub("_", text)
    text = _SPACES.sub(" ", text)
    text = text.lstrip(". ").rstrip(". ")

    if text.partition(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        text = f"_{text}"

    ext_match = _EXTENSION.search(text)
    ext = ext_match.group(0) if ext_match and ext_match.start() > 0 else ""
    base = text[: len(text) - len(ext)] if ext else text
    base = base[: MAX_FILENAME_CHARS - len(ext)]
    while base and len((base + ext).encode("utf-8")) > _MAX_FILENAME_BYTES:
        base = base[:-1]
    base = base.rstrip(". ")
    if not base:
        base = "file"
    return base + ext


# ---------------------------------------------------------------------------------------------
# Type by content

# Formats clients send by mistake, named so staff can tell the client what to do instead.
_KNOWN_OTHERS: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"ISO-10303-21", "a STEP CAD file (ask for an STL or 3MF export)"),
    (b"Kaydara FBX", "an FBX scene (ask for an STL or 3MF export)"),
    (b"glTF", "a glTF scene (ask for an STL or 3MF export)"),
    (b"ply\n", "a PLY mesh (ask for an STL or 3MF export)"),
    (b"ply\r\n", "a PLY mesh (ask for an STL or 3MF export)"),
    (b"Rar!", "a RAR archive (unpack it and send the model files)"),
    (b"7z\xbc\xaf", "a 7-Zip archive (unpack it and send the model files)"),
    (b"\x1f\x8b", "a gzip archive (unpack it and send the model files)"),
    (b"MZ", "a Windows program"),
)
_OBJ_KEYWORDS: Final = frozenset(
    {
        "v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "mtllib", "usemtl", "usemap",
        "maplib", "mg", "cstype", "deg", "bmat", "step", "curv", "curv2", "surf", "parm",
        "trim", "hole", "scrv", "sp", "end", "con", "lod", "shadow_obj", "trace_obj",
        "ctech", "stech", "bevel", "c_interp", "d_interp",
    }
)  # fmt: skip
# Unambiguous on purpose: no two quantifiers compete for the same digits (no backtracking).
_NUMBER: Final = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf)$", re.I)
_OBJ_CONTINUATION: Final = re.compile(r"\\[ \t]*\r?\n")
_NOT_ACCEPTED: Final = "This is not a 3D model the shop accepts: send an STL, OBJ or 3MF file."


def _binary_stl_count(head: bytes) -> int:
    return int.from_bytes(head[80:84], "little")


def _stl_records_look_real(head: bytes) -> bool:
    """The first triangle records hold finite coordinates of sane size (not random bytes)."""
    body = head[84:]
    count = min(len(body) // 50, 20)
    if not count:
        return False
    for record in struct.iter_unpack("<12fH", body[: 50 * count]):
        if not all(math.isfinite(v) and abs(v) < 1e7 for v in record[:12]):
            return False
    return True


def _looks_like_text(head: bytes) -> bool:
    return b"\x00" not in head


def _looks_like_obj(head: bytes, size: int) -> bool:
    """OBJ statements with at least one vertex; a few unknown statements are tolerated."""
    text = _OBJ_CONTINUATION.sub(" ", head.decode("latin-1"))
    lines = text.splitlines()
    if len(head) < size and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    statements = unknown = 0
    saw_vertex = False
    for line in lines:
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        statements += 1
        keyword = parts[0].lower()
        if keyword not in _OBJ_KEYWORDS:
            if statements == 1:
                return False
            unknown += 1
        elif keyword == "v":
            if len(parts) < 4 or not all(_NUMBER.match(p) for p in parts[1:4]):
                return False
            saw_vertex = True
    return saw_vertex and unknown <= max(2, statements // 20)


def sniff_format(head: bytes, size: int) -> MeshFormat:
    """The mesh format of a file from its first bytes (`HEAD_BYTES`) and its full size.

    A binary STL is an 80-byte header, a little-endian triangle count n and exactly 50 n bytes
    of triangles: the size must match, whatever the header says (many CAD programs start binary
    headers with "solid"). An ASCII STL is text starting with "solid" with facets (or an
    ``endsolid``). An OBJ is text made of OBJ statements with at least one vertex line. A 3MF
    is a ZIP; that it holds a 3D model is checked by `inspect_3mf` when the whole file is at
    hand. Anything else raises `UnsupportedFormat` with a sentence for staff.
    """
    head = head[:HEAD_BYTES]
    if size <= 0 or not head:
        raise UnsupportedFormat("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        return "3mf"
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise UnsupportedFormat("This is an empty or split ZIP archive, not a 3MF model.")
    if size >= 84 and len(head) >= 84 and size == 84 + 50 * _binary_stl_count(head):
        return "stl_binary"

    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _looks_like_text(head):
        lower = stripped.lower()
        if lower.startswith(b"solid") and (b"facet" in lower or b"endsolid" in lower):
            return "stl_ascii"
        if _looks_like_obj(head, size):
            return "obj"
    for signature, what in _KNOWN_OTHERS:
        if head.startswith(signature):
            raise UnsupportedFormat(f"This is {what}, not a 3D model.")
    if not _looks_like_text(head) and len(head) >= 84:
        count = _binary_stl_count(head)
        expected = 84 + 50 * count
        # Random bytes give counts of billions and garbage floats; a cut-short STL gives a
        # count near the size, or at least triangles that look like triangles.
        if count and expected > size and (expected <= 100 * size or _stl_records_look_real(head)):
            raise UnsupportedFormat(
                "This looks like a binary STL that is cut short or damaged: its header "
                f"promises {count:,} triangles ({expected:,} bytes) but the file has "
                f"{size:,} bytes."
            )
    if 0 < size < 84 and not _looks_like_text(head):
        raise UnsupportedFormat("The file is too short to be a 3D model.")
    raise UnsupportedFormat(_NOT_ACCEPTED)


# ---------------------------------------------------------------------------------------------
# 3MF packages

_MODEL_PART: Final = "3d/3dmodel.model"


def _open_zip(source: bytes | Path) -> zipfile.ZipFile:
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            return zipfile.ZipFile(io.BytesIO(bytes(source)))
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BrokenPackage(f"The 3MF package is damaged and cannot be opened ({exc}).") from None
    except OSError as exc:
        raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None


def _check_members(
    archive: zipfile.ZipFile,
    *,
    archive_size: int,
    max_uncompressed: int,
    max_ratio: float,
) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > _3MF_MAX_MEMBERS:
        raise UnsafePackage(f"The 3MF package holds {len(members):,} parts; that is not a model.")
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise BrokenPackage("The 3MF package is encrypted; ask for an unprotected file.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BrokenPackage(
                f"The 3MF package uses a compression method ({info.compress_type}) that 3MF "
                "does not allow."
            )
        total += info.file_size
        if total > max_uncompressed:
            raise UnsafePackage(
                "The 3MF package would expand to more than "
                f"{_megabytes(max_uncompressed)}; it is refused as a possible zip bomb."
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR_BYTES and ratio > max_ratio:
            raise UnsafePackage(
                f"A part of the 3MF package ({info.filename}) expands {ratio:,.0f} times; "
                "it is refused as a possible zip bomb."
            )
    if total > _RATIO_FLOOR_BYTES and total / max(archive_size, 1) > max_ratio:
        raise UnsafePackage("The 3MF package expands too much; refused as a possible zip bomb.")
    return members


def _model_member(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    for info in members:
        if info.filename.lower().lstrip("/") == _MODEL_PART:
            return info
    raise BrokenPackage(
        "This is a ZIP archive but not a 3MF model (it has no 3D/3dmodel.model part)."
    )


def _source_size(source: bytes | Path) -> int:
    if isinstance(source, bytes | bytearray | memoryview):
        return len(source)
    try:
        return os.stat(source).st_size
    except OSError as exc:
        raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None


def inspect_3mf(
    source: bytes | Path,
    *,
    max_uncompressed: int = DEFAULT_3MF_MAX_UNCOMPRESSED,
    max_ratio: float = DEFAULT_3MF_MAX_RATIO,
) -> None:
    """Check a 3MF package from its ZIP directory alone, without decompressing anything."""
    with _open_zip(source) as archive:
        members = _check_members(
            archive,
            archive_size=_source_size(source),
            max_uncompressed=max_uncompressed,
            max_ratio=max_ratio,
        )
        _model_member(members)


def _wanted(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((".model", ".rels"))


def read_3mf(
    source: bytes | Path,
    *,
    max_uncompressed: int = DEFAULT_3MF_MAX_UNCOMPRESSED,
    max_ratio: float = DEFAULT_3MF_MAX_RATIO,
) -> dict[str, bytes]:
    """The XML parts of a 3MF package (``*.model`` and ``*.rels``), by their names in the ZIP.

    The declared sizes are checked first (`inspect_3mf`); then each part is read in chunks and
    the reading stops as soon as it passes what was declared or what the limits allow, so a
    directory that lies about sizes cannot make it expand further. Thumbnails and textures are
    never decompressed.
    """
    parts: dict[str, bytes] = {}
    with _open_zip(source) as archive:
        members = _check_members(
            archive,
            archive_size=_source_size(source),
            max_uncompressed=max_uncompressed,
            max_ratio=max_ratio,
        )
        _model_member(members)
        budget = max_uncompressed
        for info in members:
            if info.is_dir() or not _wanted(info.filename):
                continue
            cap = min(info.file_size, budget)
            chunks: list[bytes] = []
            read = 0
            try:
                with archive.open(info) as stream:
                    while chunk := stream.read(_READ_CHUNK):
                        read += len(chunk)
                        if read > cap:
                            raise UnsafePackage(
                                f"A part of the 3MF package ({info.filename}) expands beyond "
                                "its declared size; refused as a possible zip bomb."
                            )
                        chunks.append(chunk)
            except (zipfile.BadZipFile, EOFError, ValueError, RuntimeError) as exc:
                raise BrokenPackage(
                    f"The 3MF package is damaged: {info.filename} cannot be read ({exc})."
                ) from None
            except OSError as exc:
                raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None
            budget -= read
            parts[info.filename.lstrip("/")] = b"".join(chunks)
    return parts


# ---------------------------------------------------------------------------------------------
# One call for a file on disk


@dataclass(frozen=True)
class CheckedFile:
    """What intake learned about a file that passed: its safe name, its format and its size."""

    filename: str
    fmt: MeshFormat
    size_bytes: int


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except IsADirectoryError:
        raise UnreadableFile("That is a folder, not a file.") from None
    except OSError as exc:
        raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None


def file_size(path: Path) -> int:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile("The file does not exist.") from None
    except OSError as exc:
        raise UnreadableFile(f"The file cannot be read: {exc.strerror or exc}.") from None
    if not os.path.isfile(path):
        raise UnreadableFile("That is not a regular file.")
    return info.st_size


def check_file(
    path: Path | str,
    *,
    filename: str | None = None,
    max_bytes: int | None = None,
) -> CheckedFile:
    """Every check intake makes before storing a file: size, type by content, safe name.

    The size comes from the file system, so a file over the limit is refused without reading
    it. A 3MF package is checked from its ZIP directory (`inspect_3mf`). The mesh itself is
    checked by `core.mesh.analysis`.
    """
    path = Path(path)
    size = file_size(path)
    check_size(size, max_bytes)
    fmt = sniff_format(read_head(path), size)
    if fmt == "3mf":
        inspect_3mf(path)
    return CheckedFile(
        filename=safe_filename(filename if filename is not None else path.name),
        fmt=fmt,
        size_bytes=size,
    )


__all__ = [
    "DEFAULT_3MF_MAX_RATIO",
    "DEFAULT_3MF_MAX_UNCOMPRESSED",
    "HEAD_BYTES",
    "MAX_FILENAME_CHARS",
    "MESH_FORMATS",
    "BrokenPackage",
    "CheckedFile",
    "FileTooLarge",
    "IntakeError",
    "MeshFormat",
    "UnreadableFile",
    "UnsafePackage",
    "UnsupportedFormat",
    "check_file",
    "check_size",
    "default_max_bytes",
    "file_size",
    "inspect_3mf",
    "read_3mf",
    "read_head",
    "safe_filename",
    "sniff_format",
]

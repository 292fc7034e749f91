"""Cura's instance profiles (quality and nozzle variant ``.inst.cfg``) and material profiles
(``.xml.fdm_material``), found by their metadata the way Cura's container registry finds them.
"""

from __future__ import annotations

import configparser
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.slicing.errors import ProfileError

_NS = {"um": "http://www.ultimaker.com/material", "cura": "http://www.ultimaker.com/cura"}

# XML material setting names -> Cura setting keys (Cura 4.13's XmlMaterialProfile mapping).
MATERIAL_SETTING_KEYS: Mapping[str, str] = {
    "print temperature": "default_material_print_temperature",
    "heated bed temperature": "default_material_bed_temperature",
    "standby temperature": "material_standby_temperature",
    "processing temperature graph": "material_flow_temp_graph",
    "print cooling": "cool_fan_speed",
    "retraction amount": "retraction_amount",
    "retraction speed": "retraction_speed",
    "adhesion tendency": "material_adhesion_tendency",
    "surface energy": "material_surface_energy",
    "build volume temperature": "build_volume_temperature",
    "anti ooze retract position": "material_anti_ooze_retracted_position",
    "anti ooze retract speed": "material_anti_ooze_retraction_speed",
    "break preparation position": "material_break_preparation_retracted_position",
    "break preparation speed": "material_break_preparation_speed",
    "break preparation temperature": "material_break_preparation_temperature",
    "break position": "material_break_retracted_position",
    "flush purge speed": "material_flush_purge_speed",
    "flush purge length": "material_flush_purge_length",
    "end of filament purge speed": "material_end_of_filament_purge_speed",
    "end of filament purge length": "material_end_of_filament_purge_length",
    "maximum park duration": "material_maximum_park_duration",
    "no load move factor": "material_no_load_move_factor",
    "break speed": "material_break_speed",
    "break temperature": "material_break_temperature",
}

_HEADER_FIELD = re.compile(r"^\s*(definition|type)\s*=\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class InstanceProfile:
    """A quality, variant or intent ``.inst.cfg``: metadata and raw setting values."""

    id: str
    path: Path
    name: str
    definition: str
    metadata: Mapping[str, str]
    values: Mapping[str, str]

    @property
    def type(self) -> str:
        return self.metadata.get("type", "")

    def matches(self, criteria: Mapping[str, str]) -> bool:
        for key, wanted in criteria.items():
            actual = self.definition if key == "definition" else self.metadata.get(key)
            if actual != wanted:
                return False
        return True


def read_instance_profile(path: Path) -> InstanceProfile:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ProfileError(f"The Cura profile {path} cannot be read: {exc}") from None
    if "general" not in parser or "definition" not in parser["general"]:
        raise ProfileError(f"The Cura profile {path} has no [general] definition.")
    general = parser["general"]
    profile_id = path.name.removesuffix(".inst.cfg")
    return InstanceProfile(
        id=profile_id,
        path=path,
        name=general.get("name", profile_id),
        definition=general["definition"].strip(),
        metadata=MappingProxyType(dict(parser["metadata"]) if "metadata" in parser else {}),
        values=MappingProxyType(dict(parser["values"]) if "values" in parser else {}),
    )


class ProfileLibrary:
    """Finds instance profiles by metadata; the folder is indexed once, files parsed on demand."""

    def __init__(self, resources: Path, folders: Iterable[str] = ("quality", "variants")) -> None:
        self.resources = resources
        self._folders = tuple(folders)
        self._lock = threading.Lock()
        self._index: list[tuple[Path, str, str]] | None = None
        self._parsed: dict[Path, InstanceProfile] = {}

    def _ensure_index(self) -> list[tuple[Path, str, str]]:
        if self._index is None:
            index: list[tuple[Path, str, str]] = []
            for folder in self._folders:
                root = self.resources / folder
                if not root.is_dir():
                    continue
                for path in sorted(root.rglob("*.inst.cfg")):
                    try:
                        with path.open("rb") as handle:
                            # [general] and [metadata] come first; values can be long.
                            head = handle.read(4096).decode("utf-8", "replace")
                    except OSError:
                        continue
                    fields = {m.group(1): m.group(2) for m in _HEADER_FIELD.finditer(head)}
                    index.append((path, fields.get("definition", ""), fields.get("type", "")))
            self._index = index
        return self._index

    def find(self, **criteria: str) -> list[InstanceProfile]:
        """Profiles whose metadata equals every criterion (``definition`` is the [general] one)."""
        with self._lock:
            index = self._ensure_index()
            found = []
            for path, definition, kind in index:
                if "definition" in criteria and definition != criteria["definition"]:
                    continue
                if "type" in criteria and kind != criteria["type"]:
                    continue
                profile = self._parsed.get(path)
                if profile is None:
                    profile = read_instance_profile(path)
                    self._parsed[path] = profile
                if profile.matches(criteria):
                    found.append(profile)
            return found


@dataclass(frozen=True)
class MaterialProfile:
    """A material as Cura loads it for one printer (and nozzle): metadata and setting values."""

    base_file: str
    container_id: str
    path: Path
    name: str
    brand: str
    material_type: str
    color: str
    guid: str
    density: float | None
    diameter: float | None
    approximate_diameter: int
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.brand} {self.name}".strip() if self.brand != "Generic" else self.name


@dataclass(frozen=True)
class _MaterialFile:
    base_file: str
    path: Path
    name: str
    brand: str
    material_type: str
    color: str
    guid: str
    properties: Mapping[str, str]


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _mapped_settings(node: ET.Element) -> dict[str, Any]:
    """The setting values a material node sets: mapped XML settings, then cura: settings."""
    values: dict[str, Any] = {}
    for entry in node.iterfind("./um:setting", _NS):
        key = entry.get("key", "")
        if key not in MATERIAL_SETTING_KEYS:
            continue
        if key == "processing temperature graph":
            points = []
            for point in entry.iterfind("./um:point", _NS):
                flow, temperature = _number(point.get("flow")), _number(point.get("temperature"))
                if flow is not None and temperature is not None:
                    points.append([flow, temperature])
            values[MATERIAL_SETTING_KEYS[key]] = str(points)
        else:
            values[MATERIAL_SETTING_KEYS[key]] = _text(entry)
    for entry in node.iterfind("./cura:setting", _NS):
        text = _text(entry)
        value: Any = text
        if text.lower() == "yes":
            value = True
        elif text.lower() == "no":
            value = False
        values[entry.get("key", "")] = value
    return values


def possible_definition_ids(product: str) -> list[str]:
    """Cura's guesses of a definition id from a printer's product name in a material file."""
    parts: list[str] = []
    for part in product.lower().split(" "):
        if not part:
            continue
        if parts and part.isdigit():
            parts[-1] += part
        else:
            parts.append(part)
    lowered = product.lower()
    return sorted({lowered.replace(" ", ""), lowered.replace(" ", "_"), "_".join(parts)})


class MaterialLibrary:
    """Reads ``*.xml.fdm_material`` files of a resources folder (each parsed once)."""

    def __init__(self, resources: Path, product_map: Mapping[str, str] | None = None) -> None:
        self.materials_dir = resources / "materials"
        self._lock = threading.Lock()
        self._files: dict[str, _MaterialFile] | None = None
        self._product_map = dict(product_map) if product_map else _find_product_map(resources)

    def _load_all(self) -> dict[str, _MaterialFile]:
        with self._lock:
            if self._files is None:
                files: dict[str, _MaterialFile] = {}
                if self.materials_dir.is_dir():
                    for path in sorted(self.materials_dir.rglob("*.xml.fdm_material")):
                        parsed = _read_material_file(path)
                        if parsed is not None:
                            files[parsed.base_file] = parsed
                self._files = files
            return self._files

    def base_files(self) -> list[str]:
        return sorted(self._load_all())

    def has(self, base_file: str) -> bool:
        return base_file in self._load_all()

    def base_files_of_type(self, material_type: str) -> set[str]:
        return {m.base_file for m in self._load_all().values() if m.material_type == material_type}

    def base_files_with_guid(self, guid: str) -> set[str]:
        return {m.base_file for m in self._load_all().values() if guid and m.guid == guid}

    def describe(self, base_file: str) -> tuple[str, str, str, float | None]:
        """(display name, brand, type, diameter) of a material file."""
        found = self._load_all()[base_file]
        return (
            found.name,
            found.brand,
            found.material_type,
            _number(found.properties.get("diameter")),
        )

    def find_by_name(self, wanted: str) -> list[str]:
        """Base files whose id, name, or "brand name" equals ``wanted`` (case-insensitive)."""
        lowered = wanted.strip().lower()
        files = self._load_all()
        if lowered in files:
            return [lowered]
        exact = [b for b in files if b.lower() == lowered]
        if exact:
            return exact
        return sorted(
            b
            for b, m in files.items()
            if m.name.lower() == lowered or f"{m.brand} {m.name}".lower() == lowered
        )

    def profile(
        self, base_file: str, machine_id: str | None = None, variant_name: str | None = None
    ) -> MaterialProfile:
        """The material container Cura would use: nozzle-specific, printer-specific, or base."""
        files = self._load_all()
        if base_file not in files:
            raise ProfileError(f"Cura has no material profile '{base_file}'.")
        material = files[base_file]
        try:
            root = ET.parse(material.path).getroot()
        except (OSError, ET.ParseError) as exc:
            raise ProfileError(
                f"The Cura material profile {material.path} cannot be read: {exc}"
            ) from None
        settings: dict[str, Any] = {}
        settings_node = root.find("./um:settings", _NS)
        if settings_node is not None:
            settings.update(_mapped_settings(settings_node))
        diameter_text = material.properties.get("diameter")
        if diameter_text:
            settings["material_diameter"] = diameter_text
        if material.guid:
            settings["material_guid"] = material.guid
        container_id = base_file
        if machine_id and settings_node is not None:
            for machine in settings_node.iterfind("./um:machine", _NS):
                if not self._section_is_for(machine, machine_id):
                    continue
                settings.update(_mapped_settings(machine))
                container_id = f"{base_file}_{machine_id}"
                for hotend in machine.iterfind("./um:hotend", _NS):
                    if variant_name and hotend.get("id") == variant_name:
                        settings.update(_mapped_settings(hotend))
                        container_id += "_" + variant_name.replace(" ", "_")
                        break
                break
        diameter = _number(diameter_text)
        return MaterialProfile(
            base_file=base_file,
            container_id=container_id,
            path=material.path,
            name=material.name,
            brand=material.brand,
            material_type=material.material_type,
            color=material.color,
            guid=material.guid,
            density=_number(material.properties.get("density")),
            diameter=diameter,
            approximate_diameter=round(diameter if diameter is not None else 2.85),
            settings=MappingProxyType(settings),
        )

    def _section_is_for(self, machine: ET.Element, machine_id: str) -> bool:
        for identifier in machine.iterfind("./um:machine_identifier", _NS):
            product = identifier.get("product", "")
            mapped = self._product_map.get(product)
            candidates = [mapped] if mapped else possible_definition_ids(product)
            if machine_id in candidates:
                return True
        return False


def _read_material_file(path: Path) -> _MaterialFile | None:
    """Metadata and properties only: the parse stops before the (long) settings."""
    root = ET.Element("fdmmaterial")
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "fdmmaterial":
                root = element
            elif event == "start" and tag == "settings":
                break
    except (OSError, ET.ParseError):
        return None
    base_file = path.name.removesuffix(".xml.fdm_material")
    name_node = root.find("./um:metadata/um:name", _NS)
    brand = _text(name_node.find("./um:brand", _NS)) if name_node is not None else ""
    material_type = _text(name_node.find("./um:material", _NS)) if name_node is not None else ""
    color = _text(name_node.find("./um:color", _NS)) if name_node is not None else ""
    label = _text(name_node.find("./um:label", _NS)) if name_node is not None else ""
    if label:
        name = label
    elif material_type:
        name = material_type if color == "Generic" else f"{color} {material_type}"
    else:
        name = "Unknown Material"
    properties = {
        element.tag.rsplit("}", 1)[-1]: _text(element)
        for element in root.iterfind("./um:properties/*", _NS)
    }
    return _MaterialFile(
        base_file=base_file,
        path=path,
        name=name,
        brand=brand or "Unknown Brand",
        material_type=material_type or "Unknown Type",
        color=color or "Unknown Color",
        guid=_text(root.find("./um:metadata/um:GUID", _NS)),
        properties=MappingProxyType(properties),
    )


def _find_product_map(resources: Path) -> dict[str, str]:
    """Cura keeps product names -> definition ids beside its material plug-in, not in resources."""
    candidates = [
        resources.parent / "plugins" / "XmlMaterialProfile" / "product_to_id.json",
        resources.parents[2]
        / "lib"
        / "cura"
        / "plugins"
        / "XmlMaterialProfile"
        / "product_to_id.json"
        if len(resources.parents) > 2
        else None,
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                return {str(k): str(v) for k, v in data.items()}
    return {}

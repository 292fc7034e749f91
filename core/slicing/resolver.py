"""Resolve a printer's settings the way Cura's front end does, for CuraEngine's command line.

CuraEngine's CLI reads only each setting's ``default_value``: it evaluates none of the ``value``
formulas, so a changed infill density alone changes nothing. This module builds Cura's stacks
(global: user, quality, printer definition; each extruder: user, quality, material, nozzle
variant, extruder definition, then the global stack), chooses the quality, nozzle and material
profiles the way Cura chooses them for a new printer, and evaluates every formula with the
rules of Cura 4.13's GlobalStack / ExtruderStack (``resolve``, ``limit_to_extruder``,
``settable_per_extruder``) through the safe interpreter of ``core.slicing.formula``. Each value
is computed after the values it depends on (memoised, on demand). ``engine_args()`` then gives
the engine every value that differs from what it would take on its own.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.slicing.definitions import Definition, DefinitionLibrary, SettingDefinition
from core.slicing.errors import (
    InvalidChoice,
    ProfileError,
    SlicingError,
    UnknownMaterial,
    UnknownSetting,
)
from core.slicing.formula import Formula, MissingSetting, parse_formula
from core.slicing.profiles import InstanceProfile, MaterialLibrary, MaterialProfile, ProfileLibrary

log = logging.getLogger(__name__)

GLOBAL = -1  # the global stack; extruder stacks are 0, 1, …
DEFAULT_EXTRUDER = "0"


# -- what staff choose -------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintChoices:
    """What staff choose for a part; ``None`` keeps the printer's default profile value."""

    layer_height: float | None = None  # mm
    infill_percent: float | None = None  # infill_sparse_density
    wall_line_count: int | None = None
    wall_thickness: float | None = None  # mm
    supports: bool | None = None  # support_enable
    adhesion: str | None = None  # adhesion_type: skirt, brim, raft, none
    quality_type: str | None = None  # e.g. "standard", "normal", "draft"
    nozzle: str | None = None  # variant name ("0.6mm Nozzle") or size ("0.6")
    settings: Mapping[str, Any] = field(default_factory=dict)  # any other setting by key

    def user_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.layer_height is not None:
            if not 0 < self.layer_height <= 2:
                raise InvalidChoice(f"A layer height of {self.layer_height} mm cannot be printed.")
            values["layer_height"] = float(self.layer_height)
        if self.infill_percent is not None:
            if not 0 <= self.infill_percent <= 100:
                raise InvalidChoice(f"Infill must be 0 to 100 %, not {self.infill_percent} %.")
            values["infill_sparse_density"] = float(self.infill_percent)
        if self.wall_line_count is not None:
            if not 0 <= self.wall_line_count <= 100:
                raise InvalidChoice(f"{self.wall_line_count} walls cannot be printed.")
            values["wall_line_count"] = int(self.wall_line_count)
        if self.wall_thickness is not None:
            if not 0 <= self.wall_thickness <= 100:
                raise InvalidChoice(f"A wall of {self.wall_thickness} mm cannot be printed.")
            values["wall_thickness"] = float(self.wall_thickness)
        if self.supports is not None:
            values["support_enable"] = bool(self.supports)
        if self.adhesion is not None:
            values["adhesion_type"] = self.adhesion
        for key, value in self.settings.items():
            values.setdefault(key, value)
        return values


# -- typed values ------------------------------------------------------------------------------


def _literal(text: str) -> Any:
    return ast.literal_eval(text)


def _to_float(text: str) -> Any:
    cleaned = text.replace(",", ".")
    cleaned = re.sub(r"(?<![.\w\d])0+(\d+)", r"\1", cleaned)
    try:
        return _literal(cleaned)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return 0


def _to_int(text: str) -> Any:
    try:
        return _literal(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return 0


def typed_value(setting: SettingDefinition, raw: Any) -> Any:
    """A profile value as Cura holds it: "=…" is a formula, text is converted by setting type."""
    if isinstance(raw, Formula) or not isinstance(raw, str):
        return raw
    text = raw.strip()
    if text.startswith("="):
        return parse_formula(text[1:])
    kind = setting.type
    try:
        if kind == "float":
            return _to_float(text)
        if kind == "int":
            return _to_int(text)
        if kind in ("bool", "polygon", "polygons"):
            return _literal(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw
    return raw


def format_engine_value(value: Any) -> str:
    """How Cura's front end writes a value for CuraEngine: ``str(value)`` (True, 0.2, [0, 90])."""
    return str(value)


def _same_for_engine(value: Any, default: Any) -> bool:
    numbers = (int, float)
    if (
        isinstance(value, numbers)
        and isinstance(default, numbers)
        and not isinstance(value, bool)
        and not isinstance(default, bool)
    ):
        return math.isclose(float(value), float(default), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool) and value == default
    return bool(format_engine_value(value) == format_engine_value(default))


# -- Cura's stacks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Container:
    id: str
    kind: str  # user, quality, material, variant
    values: Mapping[str, Any]


@dataclass(frozen=True)
class _Stack:
    position: int  # GLOBAL or an extruder position
    definition: Definition
    containers: tuple[_Container, ...]  # top first


class _CycleError(Exception):
    pass


class _Stacks:
    """Evaluates settings over Cura's global and extruder stacks (Cura 4.13 semantics)."""

    def __init__(self, machine: Definition, global_stack: _Stack, extruders: list[_Stack]):
        self.machine = machine
        self.global_stack = global_stack
        self.extruders = extruders
        self._cache: dict[tuple[int, str, bool, frozenset[str]], Any] = {}
        self._active: set[tuple[int, str, bool, frozenset[str]]] = set()
        self._resolving: set[str] = set()
        self.warnings: list[str] = []
        self._functions: dict[str, Callable[..., Any]] = {
            "extruderValue": self._extruder_value,
            "extruderValues": self._extruder_values,
            "resolveOrValue": self._resolve_or_value,
            "defaultExtruderPosition": lambda: DEFAULT_EXTRUDER,
            "valueFromContainer": self._value_from_container,
            "extruderValueFromContainer": self._extruder_value_from_container,
            "anyExtruderWithMaterial": self._any_extruder_with_material,
            "anyExtruderNrWithOrDefault": self._any_extruder_nr_with_or_default,
        }

    # stacks and definitions

    def stack(self, position: int) -> _Stack:
        return self.global_stack if position == GLOBAL else self.extruders[position]

    def setting(self, position: int, key: str) -> SettingDefinition | None:
        if position != GLOBAL:
            own = self.extruders[position].definition.settings.get(key)
            if own is not None:
                return own
        return self.machine.settings.get(key)

    def raw(self, position: int, key: str, start: int = 0) -> Any:
        """The first value any container holds (a Formula or a constant), as getRawProperty."""
        stack = self.stack(position)
        for container in stack.containers[start:]:
            if key in container.values:
                return container.values[key]
        if position != GLOBAL:
            own = stack.definition.settings.get(key)
            if own is not None:
                return own.value_or_default
            return self.raw(GLOBAL, key)
        setting = self.machine.settings.get(key)
        return None if setting is None else setting.value_or_default

    def _active_positions(self) -> list[int]:
        count = self.get(GLOBAL, "machine_extruder_count")
        try:
            limit = int(count)
        except (TypeError, ValueError):
            limit = len(self.extruders)
        return [p for p in range(len(self.extruders)) if p < limit]

    # evaluation

    def run(self, formula: Formula, provider: int, root_global: bool, what: str) -> Any:
        """Run a formula whose names come from ``provider``; errors give 0, as in Cura."""

        def lookup(name: str) -> Any:
            value = self.get(provider, name, root_global)
            if value is None:
                raise MissingSetting(name)
            return value

        try:
            return formula.evaluate(lookup, self._functions)
        except _CycleError:
            self.warnings.append(f"{what}: the formula depends on itself; Cura gives it 0.")
            return 0
        except SlicingError:
            raise
        except Exception as exc:
            self.warnings.append(f"{what}: {formula.text!r} failed ({exc!r}); Cura gives it 0.")
            return 0

    def get(self, position: int, key: str, root_global: bool = False) -> Any:
        if position == GLOBAL:
            root_global = True
        memo = (position, key, root_global, frozenset(self._resolving))
        if memo in self._cache:
            return self._cache[memo]
        if memo in self._active:
            raise _CycleError(key)
        self._active.add(memo)
        try:
            value = self._compute(position, key, root_global)
        finally:
            self._active.discard(memo)
        self._cache[memo] = value
        return value

    def _limit_to_extruder(
        self, position: int, setting: SettingDefinition, root_global: bool
    ) -> Any:
        limit = setting.limit_to_extruder
        if isinstance(limit, Formula):
            provider = GLOBAL if root_global else position
            limit = self.run(limit, provider, root_global, f"{setting.key} (limit_to_extruder)")
        if limit is None:
            return None
        if limit == -1 and not isinstance(limit, bool):
            limit = DEFAULT_EXTRUDER
        return str(limit)

    def _compute(self, position: int, key: str, root_global: bool) -> Any:
        setting = self.setting(position, key)
        if setting is None:
            return None
        if position != GLOBAL:
            if not setting.settable_per_extruder:
                return self.get(GLOBAL, key, root_global)
            limit = self._limit_to_extruder(position, setting, root_global)
            if limit not in (None, "-1") and limit != str(position):
                target = self._extruder_index(limit)
                if target is not None:
                    result = self.get(target, key, root_global)
                    if result is not None:
                        return result
            return self._evaluate_raw(position, key, root_global)

        if self._should_resolve(key, setting):
            assert setting.resolve is not None
            self._resolving.add(key)
            try:
                resolved = self.run(setting.resolve, GLOBAL, True, f"{key} (resolve)")
            finally:
                self._resolving.discard(key)
            if resolved is not None:
                return resolved
        limit = self._limit_to_extruder(GLOBAL, setting, True)
        positions = {str(p) for p in range(len(self.extruders))}
        if limit is not None and limit in positions and setting.settable_per_extruder:
            result = self.get(int(limit), key, True)
            if result is not None:
                return result
        return self._evaluate_raw(GLOBAL, key, True)

    def _extruder_index(self, position: Any) -> int | None:
        """The extruder a position names, with Python's list indexing as Cura uses; None if none."""
        try:
            index = int(float(position))
        except (TypeError, ValueError):
            return None
        count = len(self.extruders)
        if not -count <= index < count:
            return None
        return index % count

    def _should_resolve(self, key: str, setting: SettingDefinition) -> bool:
        if setting.resolve is None or key in self._resolving:
            return False
        # A value set in any of the global stack's profiles ("state" is not Default) wins.
        return not any(key in c.values for c in self.global_stack.containers)

    def _evaluate_raw(self, position: int, key: str, root_global: bool) -> Any:
        raw = self.raw(position, key)
        if isinstance(raw, Formula):
            provider = GLOBAL if root_global else position
            where = "global" if position == GLOBAL else f"extruder {position}"
            return self.run(raw, provider, root_global, f"{key} ({where})")
        return raw

    def _in_extruder(self, position: int, key: str, start: int = 0) -> Any:
        raw = self.raw(position, key, start)
        if isinstance(raw, Formula):
            return self.run(raw, position, False, f"{key} (extruder {position})")
        return raw

    # Cura's formula functions (called without a context: they evaluate in the extruder itself)

    def _extruder_value(self, extruder_position: Any, key: str) -> Any:
        position = int(extruder_position)
        if position == -1:
            position = int(DEFAULT_EXTRUDER)
        index = self._extruder_index(position)
        if index is None:
            return self._extruder_value(0, key) if position != 0 else None
        # Cura 4.13 returns the value as it is (5.x lower-cases strings here).
        return self._in_extruder(index, key)

    def _extruder_values(self, key: str) -> list[Any]:
        result = []
        for position in self._active_positions():
            raw = self.raw(position, key)
            if raw is None:
                continue
            result.append(self._in_extruder(position, key))
        if not result:
            result.append(self.get(GLOBAL, key, True))
        return result

    def _resolve_or_value(self, key: str) -> Any:
        return self.get(GLOBAL, key, True)

    def _value_from_container(self, key: str, container_index: Any) -> Any:
        raw = self.raw(GLOBAL, key, int(container_index))
        if isinstance(raw, Formula):
            return self.run(raw, GLOBAL, True, f"{key} (from container {container_index})")
        return raw

    def _extruder_value_from_container(
        self, extruder_position: Any, key: str, container_index: Any
    ) -> Any:
        position = int(extruder_position)
        if position == -1:
            position = int(DEFAULT_EXTRUDER)
        if not 0 <= position < len(self.extruders):
            return None
        return self._in_extruder(position, key, int(container_index))

    def _any_extruder_with_material(self, key: str) -> str:
        for position in self._active_positions():
            for container in self.extruders[position].containers:
                if container.kind == "material" and key in container.values:
                    return str(position)
        return DEFAULT_EXTRUDER

    def _any_extruder_nr_with_or_default(self, key: str) -> str:
        for position in self._active_positions():
            if self._in_extruder(position, key):
                return str(position)
        return DEFAULT_EXTRUDER


# -- the resolved result -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExtruderSetup:
    """What one extruder got: its definition, nozzle, material and quality profile."""

    position: int
    definition_id: str
    variant: str | None
    material: MaterialProfile | None  # None when the printer uses no material profiles
    quality_id: str | None


@dataclass(frozen=True)
class ResolvedSettings:
    """Every setting of a printer resolved as Cura would, and what to pass to CuraEngine."""

    printer_id: str
    printer_name: str
    definition_path: Path
    quality_type: str | None
    global_quality_id: str | None
    extruders: tuple[ExtruderSetup, ...]
    material: MaterialProfile  # the chosen material, for density and diameter
    global_values: Mapping[str, Any]
    extruder_values: tuple[Mapping[str, Any], ...]
    global_engine_settings: Mapping[str, str]  # key -> text, only what differs for the engine
    extruder_engine_settings: tuple[Mapping[str, str], ...]
    warnings: tuple[str, ...] = ()

    def value(self, key: str, extruder: int | None = 0) -> Any:
        """A resolved value: from the extruder's stack by default, the global one with None."""
        if extruder is None:
            return self.global_values.get(key)
        return self.extruder_values[extruder].get(key)

    def engine_args(self) -> list[str]:
        """``-s key=value`` for the global settings, then ``-eN -s key=value`` per extruder."""
        args: list[str] = []
        for key, text in self.global_engine_settings.items():
            args += ["-s", f"{key}={text}"]
        for position, settings in enumerate(self.extruder_engine_settings):
            args.append(f"-e{position}")
            for key, text in settings.items():
                args += ["-s", f"{key}={text}"]
        return args

    def settings_passed(self) -> dict[str, dict[str, str]]:
        passed = {"global": dict(self.global_engine_settings)}
        for position, settings in enumerate(self.extruder_engine_settings):
            passed[f"extruder {position}"] = dict(settings)
        return passed

    def summary(self) -> dict[str, Any]:
        """The figures staff recognise, as resolved for extruder 0."""
        keys = (
            "layer_height",
            "layer_height_0",
            "line_width",
            "wall_line_count",
            "wall_thickness",
            "top_layers",
            "bottom_layers",
            "infill_sparse_density",
            "infill_pattern",
            "infill_line_distance",
            "support_enable",
            "support_infill_rate",
            "support_line_distance",
            "adhesion_type",
            "material_print_temperature",
            "material_bed_temperature",
            "material_diameter",
            "speed_print",
            "machine_nozzle_size",
        )
        summary: dict[str, Any] = {
            "printer": self.printer_id,
            "material": self.material.base_file,
            "quality_type": self.quality_type,
            "nozzle": self.extruders[0].variant,
        }
        for key in keys:
            summary[key] = self.value(key)
        return summary


# -- the resources of one Cura install ---------------------------------------------------------


class CuraLibrary:
    """The definitions, profiles and materials of one Cura resources folder, read on demand."""

    def __init__(self, resources: Path) -> None:
        self.resources = resources
        self.definitions = DefinitionLibrary(resources)
        self.profiles = ProfileLibrary(resources)
        self.materials = MaterialLibrary(resources)
        self._lock = threading.Lock()

    def resolve(
        self, printer: str, material: str, choices: PrintChoices | None = None
    ) -> ResolvedSettings:
        return resolve_settings(self, printer, material, choices or PrintChoices())


def _choose_variant(
    library: CuraLibrary, machine: Definition, nozzle: str | None
) -> InstanceProfile | None:
    if not machine.meta_bool("has_variants", False):
        if nozzle:
            raise InvalidChoice(f"Cura offers no nozzle choice for the {machine.name}.")
        return None
    variants = library.profiles.find(type="variant", definition=machine.id, hardware_type="nozzle")
    if not variants:
        if nozzle:
            raise InvalidChoice(f"Cura offers no nozzle choice for the {machine.name}.")
        return None
    variants.sort(key=lambda v: v.id)
    if nozzle:
        wanted = nozzle.strip().lower()
        for variant in variants:
            if variant.name.lower() == wanted:
                return variant
        try:
            size = float(wanted.removesuffix("mm").strip())
        except ValueError:
            size = None
        if size is not None:
            for variant in variants:
                raw = variant.values.get("machine_nozzle_size", "")
                try:
                    if math.isclose(float(raw), size):
                        return variant
                except ValueError:
                    continue
        names = ", ".join(v.name for v in variants)
        raise InvalidChoice(f"The {machine.name} has no nozzle '{nozzle}' in Cura ({names}).")
    preferred = machine.meta("preferred_variant_name")
    for variant in variants:
        if variant.name == preferred:
            return variant
    return variants[0]


def _choose_material(
    library: CuraLibrary,
    machine: Definition,
    extruder: Definition,
    wanted: str,
    variant_name: str | None,
) -> MaterialProfile:
    diameter_setting = extruder.settings.get("material_diameter") or machine.settings.get(
        "material_diameter"
    )
    diameter = float(diameter_setting.default_value) if diameter_setting else 2.85
    approximate = round(diameter)
    excluded = set(machine.meta("exclude_materials", []) or [])
    found = library.materials.find_by_name(wanted)
    if not found:
        raise UnknownMaterial(f"Cura has no material '{wanted}'.")
    candidates = list(found)
    if approximate == 2:  # Cura's 1.75 mm profiles are named after the 2.85 mm ones
        candidates += [f"{base}_175" for base in found if library.materials.has(f"{base}_175")]
    wrong_size: list[tuple[str, str, float | None]] = []
    not_offered: list[str] = []
    for base in candidates:
        name, _, _, size = library.materials.describe(base)
        if round(size if size is not None else 2.85) != approximate:
            wrong_size.append((base, name, size))
        elif base in excluded:
            not_offered.append(base)
        else:
            return library.materials.profile(base, machine.id, variant_name)
    if not_offered:
        raise UnknownMaterial(
            f"Cura does not offer {', '.join(not_offered)} for the {machine.name}."
        )
    base, name, size = wrong_size[0]
    raise UnknownMaterial(
        f"{name} ({base}) is {size if size is not None else 2.85:g} mm filament; the "
        f"{machine.name} takes {diameter:g} mm filament."
    )


def _extruder_qualities(
    library: CuraLibrary, machine: Definition, variant_name: str, material: MaterialProfile | None
) -> list[InstanceProfile]:
    """The quality profiles Cura offers one extruder (Cura 4.13's MaterialNode rules)."""
    profiles = library.profiles
    has_variants = machine.meta_bool("has_variants", False)
    quality_definition = _quality_definition(machine)
    if not machine.meta_bool("has_machine_quality", False):
        return profiles.find(type="quality", definition="fdmprinter")
    if material is None:
        return profiles.find(type="quality", definition=quality_definition)
    if has_variants:
        qualities = profiles.find(
            type="quality",
            definition=quality_definition,
            variant=variant_name,
            material=material.base_file,
        )
    else:
        qualities = profiles.find(
            type="quality", definition=quality_definition, material=material.base_file
        )
    if qualities:
        return qualities
    if has_variants:
        any_material = profiles.find(
            type="quality", definition=quality_definition, variant=variant_name
        )
    else:
        any_material = profiles.find(type="quality", definition=quality_definition)
    same_type = library.materials.base_files_of_type(material.material_type)
    qualities = [q for q in any_material if q.metadata.get("material") in same_type]
    if not qualities:
        same_guid = library.materials.base_files_with_guid(material.guid)
        qualities = [q for q in any_material if q.metadata.get("material") in same_guid]
    if not qualities:
        qualities = [
            q for q in any_material if q.metadata.get("global_quality", "False") != "False"
        ]
    return qualities


def _quality_definition(machine: Definition) -> str:
    if not machine.meta_bool("has_machine_quality", False):
        return "fdmprinter"
    return str(machine.meta("quality_definition") or machine.id)


def _global_qualities(library: CuraLibrary, machine: Definition) -> list[InstanceProfile]:
    found = library.profiles.find(
        type="quality", definition=_quality_definition(machine), global_quality="True"
    )
    if not found:
        found = library.profiles.find(
            type="quality", definition="fdmprinter", global_quality="True"
        )
    return found


def _by_type(profiles: Iterable[InstanceProfile]) -> dict[str, InstanceProfile]:
    result: dict[str, InstanceProfile] = {}
    for profile in sorted(profiles, key=lambda p: p.id):
        quality_type = profile.metadata.get("quality_type")
        if quality_type and quality_type not in result:
            result[quality_type] = profile
    return result


def _container(
    kind: str,
    container_id: str,
    raw_values: Mapping[str, Any],
    machine: Definition,
    extruder: Definition | None,
) -> _Container:
    values: dict[str, Any] = {}
    for key, raw in raw_values.items():
        setting = (extruder.settings.get(key) if extruder else None) or machine.settings.get(key)
        if setting is None:
            continue  # Cura drops values of settings its definitions do not have
        try:
            values[key] = typed_value(setting, raw)
        except SlicingError as exc:
            raise ProfileError(f"{container_id}: {key}: {exc}") from None
    return _Container(id=container_id, kind=kind, values=MappingProxyType(values))


def resolve_settings(
    library: CuraLibrary, printer: str, material: str, choices: PrintChoices
) -> ResolvedSettings:
    """Resolve every setting of ``printer`` with ``material`` and the staff's choices."""
    machine = library.definitions.find_printer(printer)
    trains = machine.meta("machine_extruder_trains") or {}
    if not isinstance(trains, dict) or not trains:
        raise ProfileError(f"The Cura definition of the {machine.name} names no extruder.")
    positions = sorted(int(p) for p in trains)
    if positions != list(range(len(positions))):
        raise ProfileError(f"The {machine.name} has extruders numbered {positions} in Cura.")
    extruder_defs: list[Definition] = []
    for position in positions:
        extruder_id = str(trains[str(position)])
        if library.definitions.path_of(extruder_id) is None:
            raise ProfileError(
                f"Cura's definition '{extruder_id}' for extruder {position} of the "
                f"{machine.name} is missing from {library.definitions.extruders_dir}."
            )
        extruder_defs.append(library.definitions.get(extruder_id))

    variant = _choose_variant(library, machine, choices.nozzle)
    variant_name = variant.name if variant is not None else None
    # Every extruder gets the material Cura would load for it; a printer without material
    # profiles (has_materials false) gets none, but the material's density still weighs the part.
    chosen = [
        _choose_material(library, machine, extruder, material, variant_name)
        for extruder in extruder_defs
    ]
    has_materials = machine.meta_bool("has_materials", True)
    extruder_materials: list[MaterialProfile | None] = [
        m if has_materials else None for m in chosen
    ]
    chosen_material = chosen[0]

    global_by_type = _by_type(_global_qualities(library, machine))
    extruder_by_type = [
        _by_type(_extruder_qualities(library, machine, variant_name or "empty", m))
        for m in extruder_materials
    ]
    available = set(global_by_type)
    for types in extruder_by_type:
        available &= set(types)
    quality_type = choices.quality_type
    if quality_type is not None:
        if quality_type not in available:
            offered = ", ".join(sorted(available)) or "none"
            raise InvalidChoice(
                f"Cura has no '{quality_type}' quality for {chosen_material.label} on the "
                f"{machine.name} (offered: {offered})."
            )
    else:
        preferred = machine.meta("preferred_quality_type")
        if preferred in available:
            quality_type = str(preferred)
        elif available:
            quality_type = sorted(available)[0]
        elif global_by_type:
            quality_type = (
                str(preferred) if preferred in global_by_type else sorted(global_by_type)[0]
            )
    global_quality = global_by_type.get(quality_type) if quality_type else None

    user = choices.user_values()
    global_user: dict[str, Any] = {}
    extruder_user: dict[str, Any] = {}
    for key, value in user.items():
        setting = machine.settings.get(key) or extruder_defs[0].settings.get(key)
        if setting is None:
            raise UnknownSetting(f"Cura has no setting '{key}' for the {machine.name}.")
        if setting.options and isinstance(value, str) and value not in setting.options:
            raise InvalidChoice(
                f"'{value}' is not a choice for {setting.label} ({', '.join(setting.options)})."
            )
        # Cura's recommended mode sets per-extruder settings on every extruder's user profile.
        (extruder_user if setting.settable_per_extruder else global_user)[key] = value

    global_containers = [_container("user", "global_user", global_user, machine, None)]
    if global_quality is not None:
        global_containers.append(
            _container("quality", global_quality.id, global_quality.values, machine, None)
        )
    global_stack = _Stack(GLOBAL, machine, tuple(global_containers))

    extruder_stacks: list[_Stack] = []
    setups: list[ExtruderSetup] = []
    for position, (extruder, ext_material) in enumerate(
        zip(extruder_defs, extruder_materials, strict=True)
    ):
        containers = [
            _container("user", f"extruder{position}_user", extruder_user, machine, extruder)
        ]
        quality = extruder_by_type[position].get(quality_type) if quality_type else None
        if quality is not None:
            containers.append(_container("quality", quality.id, quality.values, machine, extruder))
        if ext_material is not None:
            containers.append(
                _container(
                    "material", ext_material.container_id, ext_material.settings, machine, extruder
                )
            )
        if variant is not None:
            containers.append(_container("variant", variant.id, variant.values, machine, extruder))
        extruder_stacks.append(_Stack(position, extruder, tuple(containers)))
        setups.append(
            ExtruderSetup(
                position=position,
                definition_id=extruder.id,
                variant=variant.name if variant is not None else None,
                material=ext_material,
                quality_id=quality.id if quality is not None else None,
            )
        )

    stacks = _Stacks(machine, global_stack, extruder_stacks)
    global_values = {key: stacks.get(GLOBAL, key) for key in machine.settings}
    extruder_values: list[dict[str, Any]] = []
    for position, extruder in enumerate(extruder_defs):
        keys = list(machine.settings) + [k for k in extruder.settings if k not in machine.settings]
        extruder_values.append({key: stacks.get(position, key) for key in keys})

    layer_height = global_values.get("layer_height")
    nozzle_size = extruder_values[0].get("machine_nozzle_size")
    if (
        "layer_height" in user
        and isinstance(layer_height, int | float)
        and isinstance(nozzle_size, int | float)
        and layer_height > nozzle_size
    ):
        raise InvalidChoice(
            f"A layer height of {layer_height:g} mm is more than the {nozzle_size:g} mm nozzle "
            "can print."
        )

    global_engine, extruder_engine = _engine_settings(
        machine, extruder_defs, setups, global_values, extruder_values
    )
    return ResolvedSettings(
        printer_id=machine.id,
        printer_name=machine.name,
        definition_path=machine.path,
        quality_type=quality_type,
        global_quality_id=global_quality.id if global_quality is not None else None,
        extruders=tuple(setups),
        material=chosen_material,
        global_values=MappingProxyType(global_values),
        extruder_values=tuple(MappingProxyType(v) for v in extruder_values),
        global_engine_settings=MappingProxyType(global_engine),
        extruder_engine_settings=tuple(MappingProxyType(e) for e in extruder_engine),
        warnings=tuple(dict.fromkeys(stacks.warnings)),
    )


# -- what the engine is told -------------------------------------------------------------------

_TOKEN = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*([A-Za-z0-9_-]+)\s*)?\}")
_COMMENT = re.compile(r";.+?(\n|$)")
_BED_TEMPERATURES = ("material_bed_temperature", "material_bed_temperature_layer_0")
_PRINT_TEMPERATURES = (
    "material_print_temperature",
    "material_print_temperature_layer_0",
    "default_material_print_temperature",
    "material_initial_print_temperature",
    "material_final_print_temperature",
    "material_standby_temperature",
    "print_temperature",
)


def _mentions(gcode: str, keys: Iterable[str]) -> bool:
    pattern = r"\{(" + "|".join(keys) + r")(,\s?\w+)?\}"
    return re.search(pattern, gcode) is not None


def _expand_tokens(
    gcode: str, tokens: Mapping[str, Mapping[str, Any]], default_extruder: int
) -> str:
    """Replace ``{setting}`` and ``{setting, extruder}`` as Cura does in start/end g-code."""

    def replace(match: re.Match[str]) -> str:
        key, which = match.group(1), match.group(2)
        extruder = default_extruder
        if which is not None:
            try:
                extruder = int(which)
            except ValueError:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    extruder = int(tokens["-1"][which])
        value: Any = match.group(0)
        if key in tokens["-1"]:
            value = tokens["-1"][key]
        if key in tokens.get(str(extruder), {}):
            value = tokens[str(extruder)][key]
        return str(value)

    return _TOKEN.sub(replace, gcode)


def _tokens(values: Mapping[str, Any], material: MaterialProfile | None) -> dict[str, Any]:
    tokens = dict(values)
    tokens["material_id"] = material.base_file if material else ""
    tokens["material_type"] = material.material_type if material else ""
    tokens["material_name"] = material.name if material else ""
    tokens["material_brand"] = material.brand if material else ""
    tokens["print_bed_temperature"] = tokens.get("material_bed_temperature")
    tokens["print_temperature"] = tokens.get("material_print_temperature")
    tokens["travel_speed"] = tokens.get("speed_travel")
    tokens["initial_extruder_nr"] = 0
    return tokens


def _engine_settings(
    machine: Definition,
    extruder_defs: list[Definition],
    setups: list[ExtruderSetup],
    global_values: Mapping[str, Any],
    extruder_values: list[dict[str, Any]],
) -> tuple[dict[str, str], list[dict[str, str]]]:
    tokens: dict[str, Mapping[str, Any]] = {"-1": _tokens(global_values, None)}
    for position, values in enumerate(extruder_values):
        tokens[str(values.get("extruder_nr", position))] = _tokens(
            values, setups[position].material
        )

    global_out: dict[str, Any] = dict(global_values)
    start = str(global_values.get("machine_start_gcode") or "")
    uncommented = _COMMENT.sub("\n", start)
    global_out["material_bed_temp_prepend"] = not _mentions(uncommented, _BED_TEMPERATURES)
    global_out["material_print_temp_prepend"] = not _mentions(uncommented, _PRINT_TEMPERATURES)
    for key in ("machine_start_gcode", "machine_end_gcode"):
        if isinstance(global_out.get(key), str):
            global_out[key] = _expand_tokens(global_out[key], tokens, 0)

    passed_global: dict[str, str] = {}
    for key, value in global_out.items():
        if value is None:
            continue
        default = machine.engine_defaults.get(key, _NO_DEFAULT)
        if default is not _NO_DEFAULT and _same_for_engine(value, default):
            continue
        passed_global[key] = format_engine_value(value)

    passed_extruders: list[dict[str, str]] = []
    for position, (extruder, values) in enumerate(zip(extruder_defs, extruder_values, strict=True)):
        out = dict(values)
        material = setups[position].material
        if material is not None:
            out["material_guid"] = material.guid
        extruder_nr = int(values.get("extruder_nr", position) or 0)
        for key in ("machine_extruder_start_code", "machine_extruder_end_code"):
            if isinstance(out.get(key), str):
                out[key] = _expand_tokens(out[key], tokens, extruder_nr)
        passed: dict[str, str] = {}
        for key, value in out.items():
            if value is None:
                continue
            own = extruder.settings.get(key)
            shared = machine.settings.get(key)
            per_extruder = (own is not None and own.settable_per_extruder) or (
                shared is not None and shared.settable_per_extruder
            )
            if not per_extruder:
                continue
            if key in extruder.engine_defaults:
                fallback: Any = extruder.engine_defaults[key]
            elif key in passed_global:
                fallback = global_out[key]
            else:
                fallback = machine.engine_defaults.get(key, _NO_DEFAULT)
            if fallback is not _NO_DEFAULT and _same_for_engine(value, fallback):
                continue
            passed[key] = format_engine_value(value)
        passed_extruders.append(passed)
    return passed_global, passed_extruders


_NO_DEFAULT = object()

"""Cura's printer and extruder definitions (``*.def.json``), loaded with their inheritance.

Two readings of one chain are kept: Cura's front end (metadata and settings merged from the
root down, then every ``overrides`` entry merged into its setting, so a child that only sets
``default_value`` keeps its parent's ``value`` formula), and CuraEngine's own reading, which
takes ``default_value`` only, of leaf settings only, file by file.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.slicing.errors import ProfileError, UnknownPrinter, UnsafeFormula
from core.slicing.formula import Formula, parse_formula

# Property defaults Cura registers for its own setting properties.
_DEFAULT_LIMIT_TO_EXTRUDER = "-1"


@dataclass(frozen=True)
class SettingDefinition:
    """One setting as the merged definition chain describes it."""

    key: str
    type: str
    label: str
    default_value: Any
    value: Any  # a Formula, a constant, or None when the setting only has default_value
    resolve: Formula | None
    limit_to_extruder: Any  # a Formula, or the string "-1" (Cura's default for the property)
    settable_per_extruder: bool
    settable_per_mesh: bool
    has_children: bool
    options: tuple[str, ...]

    @property
    def value_or_default(self) -> Any:
        """What Cura's definition container answers for "value": the formula, else the default."""
        return self.default_value if self.value is None else self.value


@dataclass(frozen=True)
class Definition:
    """A printer or extruder definition with its whole chain merged."""

    id: str
    name: str
    path: Path
    chain: tuple[str, ...]  # this id first, fdmprinter (or fdmextruder) last
    metadata: Mapping[str, Any]
    settings: Mapping[str, SettingDefinition]
    engine_defaults: Mapping[str, Any]  # what CuraEngine itself reads from the chain

    def __contains__(self, key: object) -> bool:
        return key in self.settings

    def meta(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def meta_bool(self, key: str, default: bool) -> bool:
        value = self.metadata.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip().lower() in {"true", "yes", "1", "on"}
        return bool(value)


def _merge(base: Any, over: Any) -> Any:
    """Deep merge as Uranium does it for inherited definitions: dicts merge, the rest replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return over


def _find_setting(tree: dict[str, Any], key: str) -> dict[str, Any] | None:
    for name, node in tree.items():
        if not isinstance(node, dict):
            continue
        if name == key:
            return node
        children = node.get("children")
        if isinstance(children, dict):
            found = _find_setting(children, key)
            if found is not None:
                return found
    return None


def _as_property_formula(raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        return parse_formula(raw) if raw.strip() else None
    return raw


class DefinitionLibrary:
    """Reads definitions from a resources folder; each file is parsed once (thread-safe)."""

    def __init__(self, resources: Path) -> None:
        self.resources = resources
        self.definitions_dir = resources / "definitions"
        self.extruders_dir = resources / "extruders"
        self._lock = threading.RLock()
        self._documents: dict[str, tuple[Path, dict[str, Any]]] = {}
        self._definitions: dict[str, Definition] = {}
        self._names: dict[str, str] | None = None

    # -- files -----------------------------------------------------------------------------

    def path_of(self, definition_id: str) -> Path | None:
        for folder in (self.definitions_dir, self.extruders_dir):
            candidate = folder / f"{definition_id}.def.json"
            if candidate.is_file():
                return candidate
        return None

    def _document(self, definition_id: str) -> tuple[Path, dict[str, Any]]:
        with self._lock:
            cached = self._documents.get(definition_id)
            if cached is not None:
                return cached
            path = self.path_of(definition_id)
            if path is None:
                raise UnknownPrinter(
                    f"Cura has no definition '{definition_id}' in {self.definitions_dir}."
                )
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ProfileError(f"The Cura definition {path} cannot be read: {exc}") from None
            if not isinstance(document, dict):
                raise ProfileError(f"The Cura definition {path} is not a JSON object.")
            self._documents[definition_id] = (path, document)
            return path, document

    def _chain(self, definition_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = definition_id
        while current is not None:
            if current in chain:
                raise ProfileError(f"The Cura definition '{definition_id}' inherits from itself.")
            chain.append(current)
            _, document = self._document(current)
            parent = document.get("inherits")
            current = parent if isinstance(parent, str) and parent else None
        return chain

    # -- definitions -----------------------------------------------------------------------

    def get(self, definition_id: str) -> Definition:
        with self._lock:
            cached = self._definitions.get(definition_id)
            if cached is not None:
                return cached
            definition = self._build(definition_id)
            self._definitions[definition_id] = definition
            return definition

    def _build(self, definition_id: str) -> Definition:
        chain = self._chain(definition_id)
        merged: dict[str, Any] = {}
        for ancestor in reversed(chain):
            _, document = self._document(ancestor)
            body = {k: v for k, v in document.items() if k != "inherits"}
            merged = _merge(merged, body)
        # The merged tree shares dicts with the cached documents: copy before overriding.
        settings_tree = copy.deepcopy(merged.get("settings") or {})
        overrides = merged.get("overrides") or {}
        if not isinstance(settings_tree, dict) or not isinstance(overrides, dict):
            raise ProfileError(f"The Cura definition '{definition_id}' has malformed settings.")
        for key, changes in overrides.items():
            node = _find_setting(settings_tree, key)
            if node is not None and isinstance(changes, dict):
                node.update(changes)
        settings: dict[str, SettingDefinition] = {}
        self._collect(settings_tree, settings, definition_id)
        path, document = self._document(definition_id)
        metadata = merged.get("metadata") or {}
        return Definition(
            id=definition_id,
            name=str(document.get("name") or merged.get("name") or definition_id),
            path=path,
            chain=tuple(chain),
            metadata=MappingProxyType(dict(metadata)),
            settings=MappingProxyType(settings),
            engine_defaults=MappingProxyType(self._engine_defaults(chain)),
        )

    def _collect(
        self, tree: dict[str, Any], into: dict[str, SettingDefinition], definition_id: str
    ) -> None:
        for key, node in tree.items():
            if not isinstance(node, dict):
                continue
            children = node.get("children")
            has_children = isinstance(children, dict) and bool(children)
            setting_type = str(node.get("type", ""))
            if setting_type != "category":
                try:
                    value = _as_property_formula(node.get("value"))
                    resolve = _as_property_formula(node.get("resolve"))
                    limit = _as_property_formula(node.get("limit_to_extruder"))
                except UnsafeFormula as exc:
                    raise UnsafeFormula(
                        f"Cura definition '{definition_id}', {key}: {exc}"
                    ) from None
                options = node.get("options")
                into[key] = SettingDefinition(
                    key=key,
                    type=setting_type,
                    label=str(node.get("label", key)),
                    default_value=node.get("default_value", 0),
                    value=value,
                    resolve=resolve if isinstance(resolve, Formula) else None,
                    limit_to_extruder=_DEFAULT_LIMIT_TO_EXTRUDER if limit is None else limit,
                    settable_per_extruder=bool(node.get("settable_per_extruder", True)),
                    settable_per_mesh=bool(node.get("settable_per_mesh", True)),
                    has_children=has_children,
                    options=tuple(options) if isinstance(options, dict) else (),
                )
            if has_children:
                assert isinstance(children, dict)
                self._collect(children, into, definition_id)

    def _engine_defaults(self, chain: list[str]) -> dict[str, Any]:
        """What CuraEngine's command line takes from the chain: leaf default_value, file by file.

        The engine skips settings that have children, and cannot read nested JSON arrays
        (polygons); such settings are left out, so the caller always passes them.
        """
        result: dict[str, Any] = {}

        def leaves(tree: dict[str, Any]) -> None:
            for key, node in tree.items():
                if not isinstance(node, dict):
                    continue
                children = node.get("children")
                if isinstance(children, dict):
                    leaves(children)
                    continue
                take(key, node)

        def take(key: str, node: dict[str, Any]) -> None:
            if "default_value" not in node:
                return
            value = node["default_value"]
            if isinstance(value, list | dict):
                result.pop(key, None)
                return
            result[key] = value

        for ancestor in reversed(chain):
            _, document = self._document(ancestor)
            tree = document.get("settings")
            if isinstance(tree, dict):
                leaves(tree)
            overrides = document.get("overrides")
            if isinstance(overrides, dict):
                for key, node in overrides.items():
                    if isinstance(node, dict):
                        take(key, node)
        return result

    # -- printers by name ------------------------------------------------------------------

    def printer_names(self) -> Mapping[str, str]:
        """Display name of every printer definition (id -> name)."""
        with self._lock:
            if self._names is None:
                names: dict[str, str] = {}
                for path in sorted(self.definitions_dir.glob("*.def.json")):
                    definition_id = path.name.removesuffix(".def.json")
                    try:
                        document = json.loads(path.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        continue
                    if isinstance(document, dict):
                        names[definition_id] = str(document.get("name", definition_id))
                self._names = names
            return MappingProxyType(self._names)

    def find_printer(self, id_or_name: str) -> Definition:
        """A printer by definition id (``creality_ender3``) or name (``Creality Ender-3``)."""
        wanted = id_or_name.strip()
        if not wanted:
            raise UnknownPrinter("No printer was given.")
        if "/" in wanted or "\\" in wanted or wanted.startswith("."):
            raise UnknownPrinter(f"'{wanted}' is not a Cura printer definition id.")
        if (self.definitions_dir / f"{wanted}.def.json").is_file():
            definition = self.get(wanted)
        else:
            lowered = wanted.lower()
            matches = [i for i, n in self.printer_names().items() if n.lower() == lowered]
            if not matches:
                matches = [i for i in self.printer_names() if i.lower() == lowered]
            if len(matches) != 1:
                raise UnknownPrinter(
                    f"Cura has no printer '{wanted}'"
                    + (" (several printers have that name)." if matches else ".")
                )
            definition = self.get(matches[0])
        if definition.id in ("fdmprinter", "fdmextruder") or definition.meta("type") == "extruder":
            raise UnknownPrinter(f"'{wanted}' is one of Cura's base definitions, not a printer.")
        return definition

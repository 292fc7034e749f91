"""The safe formula interpreter: what Cura's definitions use works, nothing else gets in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.slicing.errors import UnsafeFormula
from core.slicing.formula import FormulaRuntimeError, MissingSetting, parse_formula


def values(**settings: Any) -> Any:
    def lookup(name: str) -> Any:
        if name not in settings:
            raise MissingSetting(name)
        return settings[name]

    return lookup


def test_cura_arithmetic_conditionals_and_math() -> None:
    formula = parse_formula(
        "0 if infill_sparse_density == 0 else (infill_line_width * 100) / infill_sparse_density"
        " * (2 if infill_pattern == 'grid' else 1)"
    )
    assert formula.setting_names == {"infill_sparse_density", "infill_line_width", "infill_pattern"}
    lookup = values(infill_sparse_density=20, infill_line_width=0.4, infill_pattern="grid")
    assert formula.evaluate(lookup) == pytest.approx(0.4 * 100 / 20 * 2)
    top = parse_formula("math.ceil(round(top_thickness / layer_height, 4))")
    assert top.evaluate(values(top_thickness=0.8, layer_height=0.2)) == 4


def test_cura_functions_comprehensions_and_builtins_passed_as_values() -> None:
    extruder_values = {"support_offset": [0.8, 1.2], "magic_mesh_surface_mode": ["normal", "both"]}
    functions = {"extruderValues": lambda key: extruder_values[key]}
    assert parse_formula("max(extruderValues('support_offset'))").evaluate(
        values(), functions
    ) == pytest.approx(1.2)
    surface = parse_formula(
        "all(p != 'surface' for p in extruderValues('magic_mesh_surface_mode'))"
    )
    assert surface.evaluate(values(), functions) is True
    offsets = parse_formula("max(map(abs, [-3, 2])) + [x * 2 for x in [1, 2] if x > 1][0]")
    assert offsets.evaluate(values()) == 3 + 4


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd')",
        "eval('1')",
        "exec('x = 1')",
        "getattr(math, 'pi')",
        "math.factorial(100000)",
        "os.system('true')",
        "layer_height.real",
        "(lambda: 1)()",
        "{1: 2}",
        "{x for x in [1]}",
        "'abc'[::-1]",
        "f'{layer_height}'",
        "max(key=abs)",
        "_hidden",
        "math",
    ],
)
def test_refuses_anything_outside_the_whitelist(text: str) -> None:
    with pytest.raises(UnsafeFormula) as refused:
        parse_formula(text)
    assert "not allowed" in str(refused.value)


def test_unknown_names_are_settings_and_fail_when_missing() -> None:
    formula = parse_formula("no_such_setting * 2")
    assert formula.setting_names == {"no_such_setting"}
    with pytest.raises(MissingSetting):
        formula.evaluate(values())


def test_runaway_sizes_are_stopped() -> None:
    with pytest.raises(FormulaRuntimeError):
        parse_formula("'x' * 10000000").evaluate(values())
    with pytest.raises(FormulaRuntimeError):
        parse_formula("10 ** 100000").evaluate(values())
    with pytest.raises(FormulaRuntimeError):
        parse_formula("'%s' % 5").evaluate(values())


def test_every_formula_of_the_cura_definitions_is_accepted(cura_resources: Path) -> None:
    count = 0

    def walk(settings: dict[str, Any]) -> None:
        nonlocal count
        for node in settings.values():
            if not isinstance(node, dict):
                continue
            for prop in ("value", "resolve", "limit_to_extruder"):
                if isinstance(node.get(prop), str) and node[prop].strip():
                    parse_formula(node[prop])
                    count += 1
            if isinstance(node.get("children"), dict):
                walk(node["children"])

    for folder in ("definitions", "extruders"):
        for path in sorted((cura_resources / folder).glob("*.def.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            walk(document.get("settings", {}))
            walk(document.get("overrides", {}))
    assert count > 1000

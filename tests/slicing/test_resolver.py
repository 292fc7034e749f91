"""Settings resolved as Cura resolves them, checked against Cura's formulas worked by hand.

Each expected value below is written out from the formula in fdmprinter.def.json (or the
printer's own override) with the inputs the printer's profiles give; the comment names the
file each input comes from.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from core.slicing.errors import (
    InvalidChoice,
    ProfileError,
    UnknownMaterial,
    UnknownPrinter,
    UnknownSetting,
    UnsafeFormula,
)
from core.slicing.resolver import CuraLibrary, PrintChoices, ResolvedSettings


def infill_line_distance(line_width: float, density: float, pattern: str) -> float:
    # fdmprinter infill_line_distance: width * 100 / density * pattern factor
    factor = {"grid": 2, "triangles": 3, "cubic": 3, "lines": 1, "zigzag": 1}[pattern]
    return line_width * 100 / density * factor


def wall_line_count(wall_thickness: float, wall_0: float, wall_x: float) -> int:
    # fdmprinter wall_line_count: max(1, round((thickness - outer width) / inner width) + 1)
    return max(1, round((wall_thickness - wall_0) / wall_x) + 1)


def layers(thickness: float, layer_height: float) -> int:
    # fdmprinter top_layers / bottom_layers: ceil(round(thickness / layer height, 4))
    return math.ceil(round(thickness / layer_height, 4))


def support_line_distance(line_width: float, rate: float, pattern: str) -> float:
    # fdmprinter support_line_distance: width * 100 / rate * (2 grid, 3 triangles, else 1)
    return line_width * 100 / rate * {"grid": 2, "triangles": 3}.get(pattern, 1)


def check(resolved: ResolvedSettings, **expected: object) -> None:
    for key, value in expected.items():
        actual = resolved.value(key)
        if isinstance(value, float):
            assert actual == pytest.approx(value), key
        else:
            assert actual == value, key


def test_creality_ender3_standard_quality_with_generic_pla(library: CuraLibrary) -> None:
    r = library.resolve("creality_ender3", "generic_pla")
    # Cura's choice for an Ender 3, 0.4 mm nozzle, generic PLA: the 1.75 mm profile, the
    # creality "standard" global quality and base_0.4_PLA_standard for the extruder.
    assert r.material.base_file == "generic_pla_175"
    assert r.global_quality_id == "base_global_standard"
    assert r.extruders[0].quality_id == "base_0.4_PLA_standard"
    assert r.extruders[0].variant == "0.4mm Nozzle"
    width = 0.4  # line_width = machine_nozzle_size (variants/creality_ender3_0.4.inst.cfg)
    layer = 0.2  # base_global_standard: layer_height = 0.2, layer_height_0 = 0.2
    wall = width * 2  # base_global_standard: wall_thickness = =line_width*2
    top_bottom = 0.2 + layer * 3  # = layer_height_0 + layer_height*3
    check(
        r,
        line_width=width,
        wall_line_width_0=width,
        infill_line_width=width,
        layer_height=layer,
        wall_line_count=wall_line_count(wall, width, width),
        top_layers=layers(top_bottom, layer),
        bottom_layers=layers(top_bottom, layer),
        # creality_base: infill_sparse_density = 20; pattern 'lines' if > 50 else 'cubic'
        infill_pattern="cubic",
        infill_line_distance=infill_line_distance(width, 20, "cubic"),
        # creality_base: support_infill_rate 20, support_pattern 'zigzag'
        support_infill_rate=20,
        support_line_distance=support_line_distance(width, 20, "zigzag"),
        # generic_pla_175's creality section: print temperature 200, bed 50
        material_print_temperature=200,
        material_bed_temperature=50,
        adhesion_type="skirt",
    )
    assert r.value("top_layers") == 4 and r.value("wall_line_count") == 2
    assert r.value("infill_line_distance") == pytest.approx(6.0)
    assert r.value("material_bed_temperature", extruder=None) == 50  # resolve: max of extruders

    dense = library.resolve("creality_ender3", "generic_pla", PrintChoices(infill_percent=80))
    # Above 50 % creality switches to 'lines': 0.4 * 100 / 80 * 1
    check(
        dense, infill_pattern="lines", infill_line_distance=infill_line_distance(width, 80, "lines")
    )
    assert dense.value("infill_line_distance") == pytest.approx(0.5)


def test_ultimaker2_uses_no_material_profile_and_its_own_quality(library: CuraLibrary) -> None:
    r = library.resolve("ultimaker2", "generic_pla", PrintChoices(supports=True))
    # ultimaker2 has has_materials false: an empty material; um2_normal sets nothing.
    assert r.extruders[0].material is None and r.global_quality_id == "um2_normal"
    assert r.material.base_file == "generic_pla"  # still the source of density (2.85 mm)
    width, layer = 0.4, 0.1  # fdmprinter layer_height default 0.1
    check(
        r,
        line_width=width,
        wall_line_count=wall_line_count(0.8, width, width),  # wall_thickness 0.8
        top_layers=layers(0.8, layer),  # top_bottom_thickness 0.8 -> 8 layers
        bottom_layers=layers(0.8, layer),
        infill_pattern="grid",  # 'lines' if > 25 else 'grid'
        infill_line_distance=infill_line_distance(width, 20, "grid"),
        support_enable=True,
        support_infill_rate=15,  # 15 if support_enable and normal support
        support_line_distance=support_line_distance(width, 15, "zigzag"),
        material_print_temperature=210,  # fdmprinter default, no material profile
        material_diameter=2.85,
    )
    assert r.value("top_layers") == 8 and r.value("infill_line_distance") == pytest.approx(4.0)
    half = library.resolve("ultimaker2", "generic_pla", PrintChoices(infill_percent=50))
    check(
        half, infill_pattern="lines", infill_line_distance=infill_line_distance(width, 50, "lines")
    )


def test_prusa_i3_takes_cura_global_qualities(library: CuraLibrary) -> None:
    r = library.resolve("prusa_i3", "generic_pla", PrintChoices(layer_height=0.2))
    # prusa_i3 has no machine quality: fdmprinter's "normal" (quality/normal.inst.cfg)
    assert r.global_quality_id == "normal" and r.extruders[0].quality_id == "normal"
    assert r.material.base_file == "generic_pla_175"
    width, layer = 0.4, 0.2
    check(
        r,
        layer_height=layer,
        top_layers=layers(0.8, layer),  # 0.8 / 0.2 -> 4
        bottom_layers=layers(0.8, layer),
        wall_line_count=wall_line_count(0.8, width, width),
        infill_line_distance=infill_line_distance(width, 20, "grid"),
        material_print_temperature=200,  # generic_pla_175: print temperature 200
        material_bed_temperature=60,
    )
    assert r.value("top_layers") == 4
    walls = library.resolve("prusa_i3", "generic_pla", PrintChoices(wall_thickness=1.6))
    check(walls, wall_line_count=wall_line_count(1.6, width, width))
    assert walls.value("wall_line_count") == 4


def test_anycubic_i3_mega_quality_enables_support(library: CuraLibrary) -> None:
    r = library.resolve("anycubic_i3_mega", "generic_pla")
    # anycubic_i3_mega_normal.inst.cfg (global and, by material-type fallback, extruder):
    # wall_thickness 1.2, top_bottom_thickness 1.2, layer_height 0.2, infill 25 zigzag,
    # support_enable True, support_pattern triangles
    assert r.global_quality_id == r.extruders[0].quality_id == "anycubic_i3_mega_normal"
    width, layer = 0.4, 0.2
    check(
        r,
        wall_line_count=wall_line_count(1.2, width, width),
        top_layers=layers(1.2, layer),
        bottom_layers=layers(1.2, layer),
        infill_pattern="zigzag",
        infill_line_distance=infill_line_distance(width, 25, "zigzag"),
        support_enable=True,
        support_infill_rate=15,
        support_line_distance=support_line_distance(width, 15, "triangles"),
    )
    assert r.value("wall_line_count") == 3 and r.value("support_line_distance") == pytest.approx(
        8.0
    )
    no_support = library.resolve("anycubic_i3_mega", "generic_pla", PrintChoices(supports=False))
    assert no_support.value("support_enable") is False
    assert no_support.global_engine_settings.get("support_enable") in (None, "False")
    denser = library.resolve("anycubic_i3_mega", "generic_pla", PrintChoices(infill_percent=50))
    check(denser, infill_line_distance=infill_line_distance(width, 50, "zigzag"))


def test_ultimaker2_plus_nozzle_and_material_specific_profiles(library: CuraLibrary) -> None:
    r = library.resolve("ultimaker2_plus", "generic_pla", PrintChoices(supports=True))
    assert r.extruders[0].variant == "0.4 mm"
    assert r.extruders[0].quality_id == "pla_0.4_normal"
    width = round(0.4 * 0.875, 2)  # ultimaker2_plus: line_width = round(nozzle * 0.875, 2)
    layer = 0.1  # um2p_global_Normal_Quality: layer_height = 0.1
    check(
        r,
        line_width=width,
        layer_height_0=round(0.4 / 1.5, 2),  # ultimaker2_plus: round(nozzle / 1.5, 2)
        # pla_0.4_normal: wall_thickness 1.05, top_bottom_thickness 0.8, infill 20
        wall_line_count=wall_line_count(1.05, width, width),
        top_layers=layers(0.8, layer),
        infill_line_distance=infill_line_distance(width, 20, "grid"),
        support_line_distance=support_line_distance(width, 15, "zigzag"),
        speed_print=50,  # pla_0.4_normal
        speed_wall=round(50 / 1.25, 1),  # variant 0.4 mm: =round(speed_print / 1.25, 1)
    )
    assert r.value("wall_line_count") == 3 and r.value("line_width") == pytest.approx(0.35)


def test_creality_cr10_bigger_bed_same_profiles(library: CuraLibrary) -> None:
    r = library.resolve("creality_cr10", "generic_pla", PrintChoices(layer_height=0.12))
    layer = 0.12
    top_bottom = 0.2 + layer * 3  # layer_height_0 stays 0.2 from base_global_standard
    check(
        r,
        machine_width=300,
        top_layers=layers(top_bottom, layer),
        bottom_layers=layers(top_bottom, layer),
        support_interface_height=layer * 4,  # base_global_standard: =layer_height*4
    )
    assert r.value("top_layers") == 5  # ceil(0.56 / 0.12 = 4.6667)


def test_engine_args_carry_every_changed_value_in_the_right_section(library: CuraLibrary) -> None:
    r = library.resolve(
        "creality_ender3", "generic_pla", PrintChoices(infill_percent=80, supports=True)
    )
    args = r.engine_args()
    split = args.index("-e0")
    global_part, extruder_part = args[:split], args[split + 1 :]
    assert "layer_height=0.2" in global_part  # creality default_value is 0.1 (fdmprinter)
    assert "support_enable=True" in global_part  # bools as Cura sends them
    assert "infill_sparse_density=80.0" in extruder_part  # per extruder: on -e0
    assert "infill_line_distance=0.5" in extruder_part
    assert "material_print_temperature=200" in extruder_part
    assert all(a == "-s" for a in global_part[::2]) and all(a == "-s" for a in extruder_part[::2])
    # Nothing that equals what the engine takes from the definition on its own is passed.
    assert not any(a.startswith("machine_width=") for a in global_part)  # 235 in the def


def test_changing_infill_moves_the_derived_settings(library: CuraLibrary) -> None:
    distances = {}
    for density, pattern in ((10, "grid"), (20, "grid"), (25, "grid"), (40, "lines")):
        r = library.resolve("prusa_i3", "generic_pla", PrintChoices(infill_percent=density))
        assert r.value("infill_pattern") == pattern  # 'lines' if density > 25 else 'grid'
        distances[density] = r.value("infill_line_distance")
        assert distances[density] == pytest.approx(infill_line_distance(0.4, density, pattern))
    assert distances[10] == pytest.approx(2 * distances[20])
    assert distances[40] == pytest.approx(0.4 * 100 / 40)
    solid = library.resolve("prusa_i3", "generic_pla", PrintChoices(infill_percent=100))
    assert solid.value("top_layers") == 0 and solid.value("bottom_layers") == 999999


def test_refusals_are_typed_and_readable(library: CuraLibrary) -> None:
    with pytest.raises(UnknownPrinter, match="no printer 'no_such_printer'"):
        library.resolve("no_such_printer", "generic_pla")
    with pytest.raises(UnknownMaterial, match="no material"):
        library.resolve("creality_ender3", "unobtainium")
    with pytest.raises(InvalidChoice, match=r"more than the 0\.4 mm nozzle"):
        library.resolve("creality_ender3", "generic_pla", PrintChoices(layer_height=0.6))
    with pytest.raises(InvalidChoice, match="Infill"):
        library.resolve("creality_ender3", "generic_pla", PrintChoices(infill_percent=150))
    with pytest.raises(InvalidChoice, match=r"adhesion|not a choice"):
        library.resolve("creality_ender3", "generic_pla", PrintChoices(adhesion="glue"))
    with pytest.raises(InvalidChoice, match="no 'silly' quality"):
        library.resolve("creality_ender3", "generic_pla", PrintChoices(quality_type="silly"))
    with pytest.raises(UnknownSetting):
        library.resolve("creality_ender3", "generic_pla", PrintChoices(settings={"nope": 1}))
    with pytest.raises(UnknownPrinter):
        library.resolve("../definitions/fdmprinter", "generic_pla")


def test_nozzle_choice_changes_line_widths(library: CuraLibrary) -> None:
    r = library.resolve("creality_ender3", "generic_pla", PrintChoices(nozzle="0.6"))
    assert r.extruders[0].variant == "0.6mm Nozzle"
    assert r.value("line_width") == pytest.approx(0.6)
    assert r.value("infill_line_distance") == pytest.approx(infill_line_distance(0.6, 20, "cubic"))


def _tiny_resources(tmp: Path, cura_resources: Path, override: Mapping[str, object]) -> Path:
    """A resources folder with Cura's base definitions and one made-up printer."""
    definitions, extruders = tmp / "definitions", tmp / "extruders"
    definitions.mkdir(parents=True)
    extruders.mkdir()
    for name in ("fdmprinter.def.json", "fdmextruder.def.json"):
        shutil.copy(cura_resources / "definitions" / name, definitions / name)
    printer = {
        "version": 2,
        "name": "Test Printer",
        "inherits": "fdmprinter",
        "metadata": {"machine_extruder_trains": {"0": "test_extruder_0"}},
        "overrides": override,
    }
    extruder = {
        "version": 2,
        "name": "Extruder 1",
        "inherits": "fdmextruder",
        "metadata": {"machine": "test_printer", "position": "0"},
        "overrides": {
            "extruder_nr": {"default_value": 0},
            "material_diameter": {"default_value": 1.75},
        },
    }
    (definitions / "test_printer.def.json").write_text(json.dumps(printer), encoding="utf-8")
    (extruders / "test_extruder_0.def.json").write_text(json.dumps(extruder), encoding="utf-8")
    shutil.copytree(cura_resources / "materials", tmp / "materials")
    return tmp


def test_a_definition_that_smuggles_code_is_refused(tmp_path: Path, cura_resources: Path) -> None:
    evil = {"infill_line_distance": {"value": "__import__('os').system('touch pwned')"}}
    library = CuraLibrary(_tiny_resources(tmp_path, cura_resources, evil))
    with pytest.raises(UnsafeFormula, match="__import__"):
        library.resolve("test_printer", "generic_pla")
    assert not (Path.cwd() / "pwned").exists()


def test_a_made_up_printer_resolves_from_fdmprinter_formulas(
    tmp_path: Path, cura_resources: Path
) -> None:
    override = {
        "machine_nozzle_size": {"default_value": 0.6},
        "layer_height": {"default_value": 0.3},
    }
    library = CuraLibrary(_tiny_resources(tmp_path, cura_resources, override))
    r = library.resolve("test_printer", "generic_pla", PrintChoices(infill_percent=30))
    # No quality profiles at all: fdmprinter's formulas on the definition defaults.
    # The extruder's own machine_nozzle_size (fdmextruder, 0.4) wins on the extruder stack.
    assert r.value("line_width") == pytest.approx(0.4)
    assert r.value("line_width", extruder=None) == pytest.approx(0.6)
    assert r.value("infill_pattern") == "lines"  # 'lines' if density > 25 else 'grid'
    assert r.value("infill_line_distance") == pytest.approx(infill_line_distance(0.4, 30, "lines"))
    assert r.value("top_layers") == layers(0.8, 0.3)


def test_a_missing_extruder_definition_is_a_clear_error(
    tmp_path: Path, cura_resources: Path
) -> None:
    root = _tiny_resources(tmp_path, cura_resources, {})
    (root / "extruders" / "test_extruder_0.def.json").unlink()
    with pytest.raises(ProfileError, match=r"test_extruder_0.*missing"):
        CuraLibrary(root).resolve("test_printer", "generic_pla")

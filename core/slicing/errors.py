"""Typed slicing failures whose message can be shown to staff as it is."""

from __future__ import annotations


class SlicingError(Exception):
    """A refusal or failure while finding Cura, resolving settings or slicing a part."""


class SlicerNotFound(SlicingError):
    """No CuraEngine binary where it was looked for."""


class CuraResourcesNotFound(SlicingError):
    """No Cura resources folder (definitions, extruders, quality, materials)."""


class UnknownPrinter(SlicingError):
    """The printer definition id (or name) is not among Cura's definitions."""


class UnknownMaterial(SlicingError):
    """The material is not among Cura's material profiles, or does not fit the printer."""


class UnknownSetting(SlicingError):
    """A setting key that Cura's definitions do not have."""


class InvalidChoice(SlicingError):
    """A print choice (layer height, infill, nozzle, quality, adhesion …) that cannot be used."""


class ProfileError(SlicingError):
    """A definition, quality, variant or material file that cannot be read as Cura reads it."""


class UnsafeFormula(SlicingError):
    """A setting formula that uses something the safe evaluator does not allow."""


class UnreadableModel(SlicingError):
    """The model file cannot be read as a mesh, or holds no triangles."""


class PartTooBig(SlicingError):
    """The part does not fit the printer's build volume."""


class SliceCancelled(SlicingError):
    """The slice was cancelled by staff."""


class SliceTimeout(SlicingError):
    """CuraEngine took longer than allowed and was stopped."""


class EngineFailed(SlicingError):
    """CuraEngine crashed, exited with an error, or reported an error in its log."""


class EngineCrashed(EngineFailed):
    """CuraEngine stopped with a non-zero exit code (a crash); worth one more try."""


class MissingEngineDefinition(EngineFailed):
    """CuraEngine could not find a definition file (it still exits 0 when that happens)."""


class EmptySliceResult(SlicingError):
    """CuraEngine reported zero print time or zero filament: nothing was sliced."""

"""Settings → Slicer: the CuraEngine and Cura definitions this counter slices with (what was
found, and the admin's choice kept in the config file), and a test slice on the task runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.config import ConfigError, write_config_file
from core.slicing.cancel import CancelToken as SliceCancelToken
from core.slicing.errors import SlicingError
from core.slicing.finding import SlicerFinding, find_slicer
from core.slicing.locate import (
    ENGINE_ENV,
    ENGINE_KEY,
    RESOURCES_ENV,
    RESOURCES_KEY,
    Places,
    chosen_in_settings,
    find_engine,
    find_resources,
)
from core.slicing.trial import TrialSlice, slice_test_cube
from desktop.viewmodels.context import AppContext
from workers.tasks import CancelToken, Task


class SlicerSettingsViewModel(QObject):
    changed = Signal()
    saved = Signal()
    found = Signal(object)  # SlicerFinding
    tested = Signal(object)  # TrialSlice, or None when the test slice failed

    def __init__(
        self,
        ctx: AppContext,
        *,
        environ: Mapping[str, str] | None = None,
        places: Places | None = None,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._env = os.environ if environ is None else environ
        self._places = places
        self.engine_from_env = bool(self._env.get(ENGINE_ENV))
        self.resources_from_env = bool(self._env.get(RESOURCES_ENV))
        self.can_edit = ctx.actor.is_admin
        self.config_file = ctx.config().config_file
        in_file = chosen_in_settings(self.config_file)
        self._saved_engine = in_file.get(ENGINE_KEY, "")
        self._saved_resources = in_file.get(RESOURCES_KEY, "")
        self._engine = self._env.get(ENGINE_ENV, "") or self._saved_engine
        self._resources = self._env.get(RESOURCES_ENV, "") or self._saved_resources
        self._error = ""
        self._finding: SlicerFinding | None = None
        self._finding_task: Task | None = None
        self._trial: TrialSlice | None = None
        self._trial_error = ""
        self._trial_task: Task | None = None

    # -- state
    @property
    def engine(self) -> str:
        return self._engine

    @property
    def resources(self) -> str:
        return self._resources

    @property
    def engine_editable(self) -> bool:
        return self.can_edit and not self.engine_from_env

    @property
    def resources_editable(self) -> bool:
        return self.can_edit and not self.resources_from_env

    @property
    def dirty(self) -> bool:
        return (self._engine.strip(), self._resources.strip()) != (
            self._env.get(ENGINE_ENV, "") or self._saved_engine,
            self._env.get(RESOURCES_ENV, "") or self._saved_resources,
        )

    @property
    def can_save(self) -> bool:
        return self.dirty and (self.engine_editable or self.resources_editable)

    @property
    def error(self) -> str:
        return self._error

    @property
    def finding(self) -> SlicerFinding | None:
        return self._finding

    @property
    def looking(self) -> bool:
        return self._finding_task is not None

    @property
    def testing(self) -> bool:
        return self._trial_task is not None

    @property
    def trial(self) -> TrialSlice | None:
        return self._trial

    @property
    def trial_ok(self) -> bool | None:
        """True after a good test slice, False after a failed one, None before (or during)."""
        if self.testing:
            return None
        if self._trial_error:
            return False
        return True if self._trial is not None else None

    @property
    def trial_text(self) -> str:
        if self.testing:
            return "Slicing a 20 mm cube…"
        if self._trial_error:
            return f"The test slice failed: {self._trial_error}"
        if self._trial is not None:
            return self._trial.summary()
        return "Slice a 20 mm cube to see that the engine and the definitions work together."

    @property
    def note(self) -> str:
        """Why a field cannot be changed here, if one cannot."""
        if not self.can_edit:
            return "Only an admin can choose another slicer."
        overridden = [
            (what, name)
            for what, name, on in (
                ("engine", ENGINE_ENV, self.engine_from_env),
                ("resources folder", RESOURCES_ENV, self.resources_from_env),
            )
            if on
        ]
        if not overridden:
            return ""
        fields = " and the ".join(what for what, _ in overridden)
        names = ", ".join(name for _, name in overridden)
        verb = "is" if len(overridden) == 1 else "are"
        return (
            f"On this computer the {fields} {verb} set in the environment ({names}), which "
            "wins over the choice here: change it there."
        )

    # -- commands
    def set_engine(self, text: str) -> None:
        if text != self._engine and self.engine_editable:
            self._engine = text
            self._error = ""
            self.changed.emit()

    def set_resources(self, text: str) -> None:
        if text != self._resources and self.resources_editable:
            self._resources = text
            self._error = ""
            self.changed.emit()

    def look(self) -> Task | None:
        """Find the slicer again (in the background: it runs the engine once)."""
        if self._finding_task is not None:
            return None
        env, places, config_file = self._env, self._places, self.config_file

        def work(_progress: Callable[[float], None], _cancel: CancelToken) -> SlicerFinding:
            return find_slicer(env=env, places=places, config_file=config_file)

        task = Task(work, describe=lambda exc: f"Looking for the slicer failed: {exc}")
        task.signals.finished.connect(self._looked)
        task.signals.failed.connect(self._look_failed)
        self._finding_task = task
        self.changed.emit()
        return self._ctx.runner.start(task)

    def save(self) -> bool:
        """Check the choice and write it to the config file; False with ``error`` (and
        nothing written) when it cannot be used. An empty field means "find it"."""
        engine, resources = self._engine.strip(), self._resources.strip()
        values: dict[str, object] = {}
        try:
            if self.engine_editable:
                if engine:
                    engine = str(self._check_engine(engine))
                values[ENGINE_KEY] = engine or None
            if self.resources_editable:
                if resources:
                    resources = str(self._check_resources(resources))
                values[RESOURCES_KEY] = resources or None
            write_config_file(self.config_file, values)
        except (SlicingError, ConfigError) as exc:
            return self._fail(str(exc))
        except ValueError as exc:  # the file is there but is not TOML
            return self._fail(f"The config file {self.config_file} cannot be read: {exc}")
        except OSError as exc:
            return self._fail(
                f"The settings cannot be written to {self.config_file}: {exc.strerror or exc}."
            )
        if self.engine_editable:
            self._engine = self._saved_engine = engine
        if self.resources_editable:
            self._resources = self._saved_resources = resources
        self._error = ""
        self._trial = None
        self._trial_error = ""
        self.changed.emit()
        self.saved.emit()
        self._ctx.notifier.info(
            "Slicer saved: PrintDesk slices with it from its next start (Test slice uses it now)."
        )
        self.look()
        return True

    def test_slice(self) -> Task | None:
        """Slice the cube with the slicer as saved; the outcome reaches ``tested``."""
        if self._trial_task is not None:
            return None
        env, places, config_file = self._env, self._places, self.config_file

        def work(_progress: Callable[[float], None], cancel: CancelToken) -> TrialSlice:
            finding = find_slicer(env=env, places=places, config_file=config_file)
            install = finding.install
            if install is None:
                raise SlicingError(finding.problem)
            token = SliceCancelToken()
            cancel.on_cancel(token.cancel)
            return slice_test_cube(install, progress=_progress, cancel=token)

        task = Task(work, describe=lambda exc: str(exc) or type(exc).__name__)
        task.signals.finished.connect(self._tested)
        task.signals.failed.connect(self._test_failed)
        task.signals.cancelled.connect(self._test_cancelled)
        self._trial_task = task
        self._trial_error = ""
        self.changed.emit()
        return self._ctx.runner.start(task)

    # -- helpers and results
    def _check_engine(self, text: str) -> Path:
        path = Path(text).expanduser()
        if not path.is_absolute():
            raise ConfigError("Give the CuraEngine program as a full path.")
        return find_engine(path, self._env, places=self._places)

    def _check_resources(self, text: str) -> Path:
        path = Path(text).expanduser()
        if not path.is_absolute():
            raise ConfigError("Give Cura's resources folder as a full path.")
        return find_resources(path, env=self._env, places=self._places)

    def _fail(self, message: str) -> bool:
        self._error = message
        self.changed.emit()
        return False

    def _looked(self, finding: SlicerFinding) -> None:
        self._finding_task = None
        self._finding = finding
        self.changed.emit()
        self.found.emit(finding)

    def _look_failed(self, message: str, details: str) -> None:
        self._finding_task = None
        self._ctx.notifier.error(message, details)
        self.changed.emit()

    def _tested(self, trial: TrialSlice) -> None:
        self._trial_task = None
        self._trial = trial
        self.changed.emit()
        self.tested.emit(trial)

    def _test_failed(self, message: str, _details: str) -> None:
        self._trial_task = None
        self._trial = None
        self._trial_error = " ".join(message.split())
        self.changed.emit()
        self.tested.emit(None)

    def _test_cancelled(self) -> None:
        self._trial_task = None
        self.changed.emit()

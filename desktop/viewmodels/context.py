"""What every view model is handed: the database, who is signed in, the notifier, the workers,
and the configuration and file storage (made on first use, so a screen that never touches a
file opens no storage)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.storage import Storage, open_storage
from desktop.viewmodels.connection import ConnectionState
from desktop.viewmodels.notifier import Notifier
from workers.tasks import TaskRunner

if TYPE_CHECKING:  # made on first use: it loads VTK, which a screen without files never needs
    from workers.thumbnails import ThumbnailService

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value made by ``make`` the first time it is asked for, then kept."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None

    def __call__(self) -> T:
        if self._value is None:
            self._value = self._make()
        return self._value

    def forget(self) -> None:
        """Make it again on the next call."""
        self._value = None


@dataclass
class AppContext:
    db: Database
    actor: Actor
    notifier: Notifier
    runner: TaskRunner
    config: Callable[[], AppConfig] = field(default_factory=lambda: Lazy(AppConfig))
    open_storage: Callable[[], Storage] | None = None
    _storage: Lazy[Storage] = field(init=False, repr=False)
    _thumbnails: ThumbnailService | None = field(default=None, init=False, repr=False)
    _connection: ConnectionState | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        config = self.config
        self._storage = Lazy(self.open_storage or (lambda: open_storage(config())))

    def thumbnails(self) -> ThumbnailService:
        """The one thumbnail renderer of the app (its thread starts with the first request)."""
        if self._thumbnails is None:
            from workers.thumbnails import ThumbnailService

            self._thumbnails = ThumbnailService(self.config().data_dir / "cache" / "thumbnails")
        return self._thumbnails

    def stop_thumbnails(self) -> None:
        """Join the thumbnail thread if one was ever made; safe to call more than once."""
        if self._thumbnails is not None:
            self._thumbnails.stop()

    def config_saved(self) -> None:
        """A settings section wrote the config file or the keyring: read them again on the next
        ``config()`` (a config handed in by a test is kept as it is)."""
        if isinstance(self.config, Lazy):
            self.config.forget()

    def connection(self) -> ConnectionState:
        """Whether the database can be reached (the window's banner; background calls set it)."""
        if self._connection is None:
            self._connection = ConnectionState(self.db, self.runner)
            self.notifier.disconnected.connect(self._connection.lost)
        return self._connection

    def storage(self) -> Storage:
        """The shop's file storage (local folders or Supabase, as configured)."""
        return self._storage()

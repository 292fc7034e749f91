"""What every view model is handed: the database, who is signed in, the notifier, the workers."""

from __future__ import annotations

from dataclasses import dataclass

from core.actor import Actor
from core.db.engine import Database
from desktop.viewmodels.notifier import Notifier
from workers.tasks import TaskRunner


@dataclass
class AppContext:
    db: Database
    actor: Actor
    notifier: Notifier
    runner: TaskRunner

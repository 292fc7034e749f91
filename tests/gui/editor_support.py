"""Waiting on the document editor's background work: open, save and actions, payments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot
from pytestqt.wait_signal import SignalBlocker

from desktop.viewmodels.document_editor import DocumentEditorViewModel
from desktop.viewmodels.payment import PaymentViewModel

TIMEOUT = 10_000


def opened(qtbot: QtBot, vm: DocumentEditorViewModel, document_id: int) -> bool:
    """Open a saved document and wait until it is on screen (or refused)."""
    with qtbot.waitSignal(vm.opened, timeout=TIMEOUT) as got:
        vm.load(document_id)
    return bool(got.args[0])


def started(qtbot: QtBot, vm: DocumentEditorViewModel, client_id: int | None = None) -> None:
    """Start a new document and wait for the shop's terms (and the client) to be read."""
    with qtbot.waitSignal(vm.opened, timeout=TIMEOUT) as got:
        vm.new_document(client_id)
    assert got.args == [True]


def act(qtbot: QtBot, vm: DocumentEditorViewModel, key: str, start: Callable[[], object]) -> Any:
    """Run an editor action and wait for its end: its result, or None when it was refused
    (an action saving pending edits first ends early when the save is refused)."""
    with qtbot.waitSignal(
        vm.done,
        timeout=TIMEOUT,
        check_params_cb=lambda done_key, value: done_key == key or value is None,
    ) as got:
        start()
    return got.args[1]


def save(qtbot: QtBot, vm: DocumentEditorViewModel) -> Any:
    """Press Save and wait: the saved view, or None when it was refused."""
    return act(qtbot, vm, "save", vm.save)


def refreshed(qtbot: QtBot, vm: DocumentEditorViewModel) -> None:
    """Another counter changed something: wait until the editor has read and followed it."""
    with qtbot.waitSignal(vm.refreshed, timeout=TIMEOUT):
        vm.refresh()


def submitted(qtbot: QtBot, form: PaymentViewModel) -> Any:
    """Record the payment and wait: the invoice after it, or None when refused."""
    with qtbot.waitSignal(form.done, timeout=TIMEOUT) as got:
        form.submit()
    return got.args[0]


def open_in(qtbot: QtBot, page: Any, document_id: int) -> None:
    """Open a document from a Quotes or Invoices page and wait until the editor shows it."""
    page.open_document(document_id)
    vm = page.editor_model
    qtbot.waitUntil(lambda: vm.document_id == document_id and not vm.busy, timeout=TIMEOUT)


def load_and_wait(vm: DocumentEditorViewModel, document_id: int | None = None) -> bool:
    """``opened`` without a qtbot at hand (helpers shared by many tests): open a saved
    document, or start a new one when ``document_id`` is None, and wait for it."""
    blocker = SignalBlocker(timeout=TIMEOUT, raising=True)
    blocker.connect(vm.opened)
    if document_id is None:
        vm.new_document()
    else:
        vm.load(document_id)
    blocker.wait()
    return bool(blocker.args and blocker.args[0])

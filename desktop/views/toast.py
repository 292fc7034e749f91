"""Notices from the notifier, shown as toasts at the bottom of the window."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from desktop.viewmodels.notifier import Level, Notice


class Toast(QFrame):
    def __init__(self, notice: Notice, parent: QWidget) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setObjectName("toast")
        self.setProperty("level", notice.level.value)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 10, 10)
        self.label = QLabel(notice.text)
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(320)
        self.label.setMaximumWidth(520)
        layout.addWidget(self.label, 1)
        if notice.details:
            details = QPushButton("Details…")
            details.clicked.connect(self._show_details)
            layout.addWidget(details)
        close = QPushButton("✕")
        close.setObjectName("toastClose")
        close.setFixedWidth(30)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.deleteLater)
        layout.addWidget(close)
        if notice.level is not Level.ERROR:
            QTimer.singleShot(6000 if notice.level is Level.INFO else 10000, self.deleteLater)

    def _show_details(self) -> None:
        box = QMessageBox(self.window())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("What went wrong")
        box.setText(self.notice.text)
        box.setDetailedText(self.notice.details)
        box.exec()


class ToastArea:
    """Stacks toasts in the bottom-right corner of ``host``."""

    def __init__(self, host: QWidget) -> None:
        self._host = host
        self._toasts: list[Toast] = []

    def show(self, notice: Notice) -> Toast:
        toast = Toast(notice, self._host)
        toast.destroyed.connect(lambda *_: self._forget(toast))
        self._toasts.append(toast)
        toast.adjustSize()
        toast.show()
        toast.raise_()
        self.place()
        return toast

    @property
    def toasts(self) -> list[Toast]:
        return list(self._toasts)

    def _forget(self, toast: Toast) -> None:
        if toast in self._toasts:
            self._toasts.remove(toast)
        if shiboken6.isValid(self._host):  # the window may be going away with its toasts
            self.place()

    def place(self) -> None:
        bottom = self._host.height() - 36
        for toast in reversed(self._toasts):
            toast.adjustSize()
            x = self._host.width() - toast.width() - 20
            bottom -= toast.height()
            toast.move(max(x, 10), max(bottom, 10))
            bottom -= 8
        for toast in self._toasts:
            toast.raise_()
            toast.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

"""The dialog a start shows after a crash: what happened, the report to copy, don't show again."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.crash_reports import CrashReport
from desktop.views.theme import MUTED, STYLESHEET

STYLE = f"""
QLabel#title {{ font-size: 15pt; font-weight: 700; }}
QLabel#hint {{ color: {MUTED}; }}
QPlainTextEdit#report {{ background: #f6f8fb; border: 1px solid #d8dde5; border-radius: 6px;
    padding: 6px; }}
"""


class CrashDialog(QDialog):
    """Shows the newest unseen report. "Copy report" puts it on the clipboard; "Don't show
    again" marks every listed report seen; "Close" keeps them for the next start."""

    def __init__(
        self,
        reports: Sequence[CrashReport],
        mark_seen: Callable[[CrashReport], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if not reports:
            raise ValueError("CrashDialog needs at least one report")
        self.reports = list(reports)
        self._mark_seen = mark_seen
        newest = self.reports[0]
        self.setWindowTitle("PrintDesk stopped unexpectedly")
        self.setStyleSheet(STYLESHEET + STYLE)
        self.resize(760, 520)

        title = QLabel("PrintDesk stopped unexpectedly last time")
        title.setObjectName("title")
        when = newest.written_at.astimezone().strftime("%d %b %Y at %H:%M")
        more = len(self.reports) - 1
        earlier = f" ({more} earlier report{'s' if more > 1 else ''} too)" if more else ""
        intro = QLabel(
            f"On {when}: {newest.summary}{earlier}.\n"
            "Everything saved before then is safe in the database. Copy the report below and "
            f"send it to whoever looks after this counter; it is also kept in "
            f"{newest.path.parent}."
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")

        self.text = QPlainTextEdit(newest.text)
        self.text.setObjectName("report")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(mono)

        self.copy_button = QPushButton("Copy report")
        self.copy_button.setToolTip("Copy the whole report to the clipboard (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self.copy)
        self.copied = QLabel("")
        self.copied.setObjectName("hint")
        self.dont_show_button = QPushButton("Don't show again")
        self.dont_show_button.clicked.connect(self.dont_show_again)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("primary")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Shift+C"), self, self.copy)

        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.copied)
        buttons.addStretch(1)
        buttons.addWidget(self.dont_show_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 18)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.reports[0].text)
        self.copied.setText("Copied.")

    def dont_show_again(self) -> None:
        for report in self.reports:
            self._mark_seen(report)
        self.accept()


def offer_crash_reports(
    reports: Sequence[CrashReport], mark_seen: Callable[[CrashReport], None]
) -> None:
    """Show the dialog when there is anything to show (at start, before signing in)."""
    if reports:
        CrashDialog(reports, mark_seen).exec()

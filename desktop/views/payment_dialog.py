"""The dialog for a payment taken at the counter; a refusal stays in the dialog, in red."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.payment import PaymentViewModel
from desktop.views.messages import ReservedMessage
from desktop.views.theme import BAD, LINE, MUTED, OK

STYLE = f"""
QLabel#balanceCaption {{ color: {MUTED}; }}
QLabel#balance {{ font-size: 18pt; font-weight: 700; }}
QLabel#hint {{ color: {MUTED}; }}
QLabel#refusal {{ color: {BAD}; background: #fdeeec; border: 1px solid #eeb4ad;
    border-radius: 6px; padding: 8px 10px; }}
QFrame#summary {{ background: #f6f8fb; border: 1px solid {LINE}; border-radius: 8px; }}
QFrame#summary QLabel {{ background: transparent; }}
QLineEdit#amount {{ font-size: 12pt; font-weight: 600; }}
QFrame#changeRow {{ background: #e9f6ee; border: 1px solid #b7dfc5; border-radius: 8px; }}
QLabel#change {{ color: {OK}; font-size: 13pt; font-weight: 700; background: transparent; }}
"""
# The theme leaves a combo's arrow to the platform style, which draws a sunken box under a
# stylesheet; these combos draw a plain chevron instead.
COMBO_STYLE = (
    "QComboBox { padding-right: 24px; } QComboBox::drop-down { border: none; width: 24px; }"
)


class ChevronCombo(QComboBox):
    """A combo box with a quiet chevron, matching the flat fields around it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(COMBO_STYLE)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(MUTED if self.isEnabled() else "#b8c0cb"), 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x, y = self.width() - 15.0, self.height() / 2
        painter.drawPolyline([QPointF(x - 4, y - 2), QPointF(x, y + 2), QPointF(x + 4, y - 2)])
        painter.end()


class PaymentDialog(QDialog):
    def __init__(self, vm: PaymentViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        vm.setParent(self)  # the form lives as long as its dialog
        self.setWindowTitle(vm.title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(460)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(12)
        heading = QLabel(vm.title)
        heading.setObjectName("sectionTitle")
        layout.addWidget(heading)

        summary = QFrame()
        summary.setObjectName("summary")
        row = QHBoxLayout(summary)
        row.setContentsMargins(14, 10, 14, 10)
        who = QLabel(vm.summary)
        row.addWidget(who, 1)
        figures = QVBoxLayout()
        figures.setSpacing(0)
        caption = QLabel("Balance due")
        caption.setObjectName("balanceCaption")
        caption.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.balance = QLabel(vm.balance_text)
        self.balance.setObjectName("balance")
        self.balance.setAlignment(Qt.AlignmentFlag.AlignRight)
        figures.addWidget(caption)
        figures.addWidget(self.balance)
        row.addLayout(figures)
        layout.addWidget(summary)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.amount = QLineEdit(vm.amount_text)
        self.amount.setObjectName("amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.amount.textEdited.connect(vm.set_amount)
        # Room kept for the longest hint or problem: a message never moves Record payment.
        self.hint = ReservedMessage("hint", lines=2)
        self.change = QLabel()
        self.change.setObjectName("change")
        amount_box = QVBoxLayout()
        amount_box.setSpacing(4)
        amount_box.addWidget(self.amount)
        amount_box.addWidget(self.hint)
        form.addRow(f"Amount ({vm.invoice.currency})", amount_box)
        self.method = ChevronCombo()
        for method, text in vm.methods:
            self.method.addItem(text, method.value)
        self.method.currentIndexChanged.connect(self._method_chosen)
        form.addRow("Method", self.method)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Receipt no., bank reference… (optional)")
        self.reference.textEdited.connect(vm.set_reference)
        form.addRow("Reference", self.reference)
        layout.addLayout(form)
        self.change_row = QFrame()
        self.change_row.setObjectName("changeRow")
        change_layout = QHBoxLayout(self.change_row)
        change_layout.setContentsMargins(14, 8, 14, 8)
        change_layout.addWidget(self.change)
        policy = self.change_row.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.change_row.setSizePolicy(policy)
        layout.addWidget(self.change_row)

        self.refusal = ReservedMessage("refusal", lines=2)
        layout.addWidget(self.refusal)

        buttons = QDialogButtonBox()
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.record_button = buttons.addButton(
            "Record payment", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.record_button.setObjectName("primary")
        self.record_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        vm.changed.connect(self._sync)
        vm.done.connect(self._submitted)
        self._sync()
        self.amount.selectAll()
        self.amount.setFocus()

    def _method_chosen(self, index: int) -> None:
        self.vm.set_method(self.vm.methods[index][0])

    def _sync(self) -> None:
        vm = self.vm
        if self.amount.text() != vm.amount_text:  # only when it differs: keep the cursor
            self.amount.setText(vm.amount_text)
        problem = vm.problem
        self.hint.show_message(problem or vm.hint)
        self.hint.setStyleSheet(f"color: {BAD};" if problem else "")
        self.change.setText(vm.change_text)
        self.change_row.setVisible(bool(vm.change_text))
        self.refusal.show_message(vm.error)
        self.record_button.setEnabled(vm.can_submit)

    def accept(self) -> None:
        """Record; the dialog closes only when the payment was taken."""
        self.vm.submit()

    def _submitted(self, view: object) -> None:
        if view is not None:
            super().accept()
        else:
            self.amount.setFocus()
            self.amount.selectAll()

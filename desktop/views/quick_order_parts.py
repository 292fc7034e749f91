"""The quick order's pieces: a row per file, the print settings of a part, its price, the totals."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.viewmodels.quick_order import QuickOrderViewModel
from desktop.viewmodels.quick_order_parts import (
    LAYER_HEIGHTS_MM,
    MAX_INFILL,
    MAX_QUANTITY,
    OrderPart,
    PartStage,
    duration_text,
    estimate_badge,
    number_refusal,
    stage_text,
)
from desktop.views.page import titled_card
from desktop.views.theme import ACCENT, BAD, LINE, MUTED, OK, WARN

STYLE = f"""
QFrame#partRow {{ background: #ffffff; border: 1px solid {LINE}; border-radius: 8px; }}
QFrame#partRow[selected="true"] {{ border: 2px solid {ACCENT}; background: #f3f8fe; }}
QLabel#partName {{ font-weight: 600; }}
QLabel#partPrice {{ font-weight: 700; font-size: 11pt; }}
QLabel#partStage {{ color: {MUTED}; font-size: 9pt; }}
QLabel#partStage[level="bad"] {{ color: {BAD}; }}
QLabel#partStage[level="warn"] {{ color: {WARN}; }}
QPushButton#rowButton {{ padding: 2px 8px; font-size: 9pt; }}
QProgressBar {{ border: none; background: #e6ebf1; border-radius: 3px; max-height: 6px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QLabel#check {{ font-size: 9.5pt; }}
QLabel#check[level="ok"] {{ color: {OK}; }}
QLabel#check[level="warn"] {{ color: {WARN}; }}
QLabel#check[level="bad"] {{ color: {BAD}; }}
QLabel#totalFigure {{ font-size: 22pt; font-weight: 700; }}
QLabel#estimate {{ color: {WARN}; font-weight: 600; }}
QLabel#estimateBadge {{ color: {WARN}; background: #fff4e0; border: 1px solid {WARN};
    border-radius: 9px; padding: 1px 8px; font-size: 8.5pt; font-weight: 600; }}
QPushButton#primary:disabled {{ background: #a9bfd8; border-color: #a9bfd8; color: #ffffff; }}
QLabel#breakdownSource {{ color: {MUTED}; font-size: 9pt; }}
QLabel#breakdownSource[kind="estimate"] {{ color: {WARN}; font-weight: 600; }}
QLabel#blocked {{ color: {MUTED}; font-size: 9pt; }}
QLabel#refusal {{ color: {BAD}; font-size: 9pt; }}
QLineEdit[refused="true"] {{ border: 1px solid {BAD}; }}
QLabel#dropHint {{ color: {MUTED}; font-size: 12pt; border: 2px dashed #c4ccd7;
    border-radius: 12px; padding: 24px; background: #f8fafc; }}
"""

_LEVELS = {
    PartStage.REFUSED: "bad",
    PartStage.FAILED: "bad",
    PartStage.CANCELLED: "warn",
    PartStage.UNITS: "warn",
}


def _restyle(widget: QWidget, name: str, value: str) -> None:
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class ElidedLabel(QLabel):
    """A one-line name that fits its room: the middle gives way to "…", so the start and the
    extension (or an object's own name at the end) stay readable; the tooltip has it all."""

    def __init__(self) -> None:
        super().__init__()
        self.full_text = ""

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        width = max(self.contentsRect().width(), 10)
        metrics = self.fontMetrics()
        self.setText(metrics.elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width))


class PartRow(QFrame):
    """One file in the list: name, price or progress, and its own cancel and remove."""

    clicked = Signal(str)

    def __init__(self, vm: QuickOrderViewModel, key: str) -> None:
        super().__init__()
        self.vm, self.key = vm, key
        self.setObjectName("partRow")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 9, 10, 9)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self.name = ElidedLabel()
        self.name.setObjectName("partName")
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.price = QLabel()
        self.price.setObjectName("partPrice")
        self.price.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.price.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.stage = QLabel()
        self.stage.setObjectName("partStage")
        self.stage.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("rowButton")
        self.cancel.setToolTip("Stop slicing this file")
        self.cancel.clicked.connect(lambda: vm.cancel(key))
        self.retry = QPushButton("Slice again")
        self.retry.setObjectName("rowButton")
        self.retry.clicked.connect(lambda: vm.reslice(key))
        self.rescale = QPushButton("Rescale to mm")
        self.rescale.setObjectName("rowButton")
        self.rescale.clicked.connect(lambda: vm.rescale_to_mm(key))
        self.keep_mm = QPushButton("Keep as mm")
        self.keep_mm.setObjectName("rowButton")
        self.keep_mm.setToolTip("The numbers are millimetres after all: price the part as it is")
        self.keep_mm.clicked.connect(lambda: vm.keep_millimetres(key))
        self.remove = QPushButton("Remove")
        self.remove.setObjectName("rowButton")
        self.remove.setToolTip("Take this file out of the order (Delete)")
        self.remove.clicked.connect(lambda: vm.remove(key))
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.price, 0, 1)
        grid.addWidget(self.stage, 1, 0, 1, 2)
        grid.addWidget(self.bar, 2, 0, 1, 2)
        self.badge = QLabel()
        self.badge.setObjectName("estimateBadge")
        self.badge.setToolTip("No slicer ran: the price comes from the part's shape.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.badge)
        buttons.setSpacing(6)
        buttons.addStretch(1)
        for button in (self.rescale, self.keep_mm, self.cancel, self.retry, self.remove):
            buttons.addWidget(button)
        grid.addLayout(buttons, 3, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        self.sync()

    def sync(self) -> None:
        part = self.vm.part(self.key)
        if part is None:
            return
        self.name.set_full_text(part.filename)
        self.name.setToolTip(part.filename)
        price = part.quote.price.line_total if part.quote is not None else None
        self.price.setText(self.vm.money(price) if price is not None else "")
        self.stage.setText(stage_text(part, self.vm.money))
        badge = estimate_badge(part)
        self.badge.setText(badge)
        self.badge.setVisible(bool(badge))
        _restyle(self.stage, "level", _LEVELS.get(part.stage, ""))
        self.bar.setVisible(part.stage in (PartStage.UPLOADING, PartStage.SLICING))
        self.bar.setValue(round(part.progress * 100))
        self.cancel.setVisible(part.stage in (PartStage.WAITING, PartStage.SLICING))
        self.retry.setVisible(part.stage in (PartStage.FAILED, PartStage.CANCELLED))
        self.rescale.setVisible(part.stage is PartStage.UNITS)
        self.keep_mm.setVisible(part.stage is PartStage.UNITS)
        self.remove.setText("Dismiss" if part.stage is PartStage.REFUSED else "Remove")

    def set_selected(self, selected: bool) -> None:
        _restyle(self, "selected", "true" if selected else "false")
        for label in (self.name, self.price, self.stage):  # their fonts come from the sheet
            _restyle(label, "selected", "true" if selected else "false")
            label.updateGeometry()
        self.name.fit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self.key)


class NumberField(QLineEdit):
    """A whole number typed or stepped with Up/Down. Unlike a spin box it never swaps what was
    typed for another value: text that is out of range is said to be refused, and kept."""

    value_entered = Signal(int)  # a number the part can take: stepped, or typed and confirmed
    refusal_changed = Signal(str)  # why the text cannot be taken; "" when it can

    def __init__(self, choice: str, *, low: int, high: int, step: int = 1) -> None:
        super().__init__()
        self.choice, self.low, self.high, self.step = choice, low, high, step
        self._value = low
        self.refusal = ""
        self.setMaxLength(15)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.textEdited.connect(self._edited)
        self.editingFinished.connect(self._confirmed)

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:
        self._value = value
        self.setText(str(value))
        self._say("")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Up: 1, Qt.Key.Key_Down: -1}.get(Qt.Key(event.key()))
        if steps is None:
            super().keyPressEvent(event)
            return
        base = self._value if self.refusal else int(self.text() or self._value)
        stepped = min(self.high, max(self.low, base + steps * self.step))
        self.setValue(stepped)
        self.value_entered.emit(stepped)

    def _edited(self, text: str) -> None:
        self._say(number_refusal(self.choice, text))

    def _confirmed(self) -> None:
        refusal = number_refusal(self.choice, self.text())
        self._say(refusal)
        if not refusal and int(self.text()) != self._value:
            self._value = int(self.text())
            self.value_entered.emit(self._value)

    def _say(self, refusal: str) -> None:
        if refusal == self.refusal:
            return
        self.refusal = refusal
        _restyle(self, "refused", "true" if refusal else "false")
        self.refusal_changed.emit(refusal)


class SettingsPanel(QFrame):
    """Printer, material, layer height, infill, supports and quantity of the selected part."""

    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__()
        self.vm = vm
        self._key: str | None = None
        box = titled_card(self, "Print settings")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        self.printer = QComboBox()
        self.material = QComboBox()
        self.layer = QComboBox()
        names = {Decimal("0.12"): "fine", Decimal("0.2"): "standard", Decimal("0.28"): "draft"}
        for height in LAYER_HEIGHTS_MM:
            label = f"{height:f} mm" + (f" ({names[height]})" if height in names else "")
            self.layer.addItem(label, str(height))
        self.infill = NumberField("infill_percent", low=0, high=MAX_INFILL, step=5)
        self.supports = QCheckBox("Print with supports")
        self.quantity = NumberField("quantity", low=1, high=MAX_QUANTITY)
        infill_row = QHBoxLayout()
        infill_row.addWidget(self.infill, 1)
        infill_row.addWidget(QLabel("%"))
        form.addRow("Printer", self.printer)
        form.addRow("Material", self.material)
        form.addRow("Layer height", self.layer)
        form.addRow("Infill", infill_row)
        form.addRow("", self.supports)
        form.addRow("Quantity", self.quantity)
        box.addLayout(form)
        # Room for two lines is kept, so a refusal appearing moves nothing under the pointer.
        self.refusal = QLabel()
        self.refusal.setObjectName("refusal")
        self.refusal.setWordWrap(True)
        self.refusal.setMinimumHeight(2 * self.refusal.fontMetrics().lineSpacing())
        self.refusal.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.refusal)
        self.apply_all = QPushButton("Apply to all parts")
        self.apply_all.setToolTip("Every other part takes these settings (not the quantity)")
        box.addWidget(self.apply_all, 0, Qt.AlignmentFlag.AlignRight)
        self.printer.currentIndexChanged.connect(
            lambda _i: self._set("printer_id", self.printer.currentData())
        )
        self.material.currentIndexChanged.connect(
            lambda _i: self._set("material_id", self.material.currentData())
        )
        self.layer.currentIndexChanged.connect(
            lambda _i: self._set("layer_height_mm", Decimal(str(self.layer.currentData())))
        )
        self.infill.value_entered.connect(lambda v: self._set("infill_percent", int(v)))
        self.supports.toggled.connect(lambda on: self._set("supports", bool(on)))
        self.quantity.value_entered.connect(lambda v: self._set("quantity", int(v)))
        for field in (self.infill, self.quantity):
            field.refusal_changed.connect(self._show_refusal)
        self.apply_all.clicked.connect(lambda: self._key and vm.apply_to_all(self._key))
        vm.catalog_changed.connect(self._fill_catalog)
        vm.catalog_loading_changed.connect(self._fill_catalog)
        self._fill_catalog()

    def _show_refusal(self, _refusal: str) -> None:
        said = [f.refusal for f in (self.infill, self.quantity) if f.refusal]
        part = self.vm.part(self._key) if self._key else None
        if said and part is not None:
            keeps = f"The part keeps {part.choices.infill_percent} % infill"
            keeps += f" and a quantity of {part.choices.quantity:,}."
            said.append(keeps)
        self.refusal.setText(" ".join(said))

    def _set(self, name: str, value: object) -> None:
        if self._key is not None and value is not None:
            self.vm.set_choice(self._key, name, value)

    def _fill_catalog(self, *_: object) -> None:
        for combo, rows in (
            (self.printer, [(p.name, p.id) for p in self.vm.printers]),
            (self.material, [(m.name, m.id) for m in self.vm.materials]),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.setPlaceholderText("Reading…" if self.vm.catalog_loading else "")
            for name, row_id in rows:
                combo.addItem(name, row_id)
            combo.blockSignals(False)
        self.show_part(self.vm.part(self._key) if self._key else None)

    def show_part(self, part: OrderPart | None) -> None:
        self._key = part.key if part is not None and part.in_order else None
        widgets: list[QWidget] = [
            self.printer,
            self.material,
            self.layer,
            self.infill,
            self.supports,
            self.quantity,
        ]
        for widget in widgets:
            widget.blockSignals(True)
            widget.setEnabled(self._key is not None)
        c = part.choices if part is not None else self.vm.default_choices()
        if c is not None:
            self.printer.setCurrentIndex(self.printer.findData(c.printer_id))
            self.material.setCurrentIndex(self.material.findData(c.material_id))
            self.layer.setCurrentIndex(self.layer.findData(str(c.layer_height_mm)))
            self.infill.setValue(c.infill_percent)
            self.supports.setChecked(c.supports)
            self.quantity.setValue(c.quantity)
        for widget in widgets:
            widget.blockSignals(False)
        self._show_refusal("")
        self.apply_all.setEnabled(self._key is not None and len(self.vm.order_parts) > 1)


class BreakdownPanel(QFrame):
    """How the selected part's price was reached."""

    ROWS = 6

    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__()
        self.vm = vm
        box = titled_card(self, "Price of this part")
        grid = QGridLayout()
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(0, 1)
        self.rows: list[tuple[QLabel, QLabel]] = []
        for row in range(self.ROWS):
            left, right = QLabel(), QLabel()
            right.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(left, row, 0)
            grid.addWidget(right, row, 1)
            self.rows.append((left, right))
        box.addLayout(grid)
        self.source = QLabel()
        self.source.setObjectName("breakdownSource")
        self.source.setWordWrap(True)
        box.addWidget(self.source)
        self.show_part(None)

    def show_part(self, part: OrderPart | None) -> None:
        quote = part.quote if part is not None else None
        lines: list[tuple[str, str]] = []
        if quote is None:
            _restyle(self.source, "kind", "")
            waiting = part is not None and part.busy
            self.source.setText("Slicing… the price appears here." if waiting else "No price yet.")
        else:
            p, money = quote.price, self.vm.money
            lines = [
                (f"Material ({p.grams:f} g)", money(p.material_cost)),
                (f"Supports ({p.support_grams:f} g)", money(p.support_cost)),
                (f"Machine time ({duration_text(p.print_seconds)})", money(p.machine_cost)),
                ("Setup", money(p.setup_fee)),
            ]
            if p.minimum_applied:
                lines.append(("Shop minimum applies", money(p.minimum_price)))
            lines.append((f"{p.quantity} × {money(p.unit_price)}", money(p.line_total)))
            if quote.estimated:
                self.source.setText("Estimate from the part's shape: no slicer was found.")
            else:
                engine = quote.slice.engine_version if quote.slice is not None else ""
                self.source.setText(
                    f"Sliced with CuraEngine {engine} for the {quote.plan.printer_name}."
                )
            _restyle(self.source, "kind", "estimate" if quote.estimated else "slice")
        for index, (left, right) in enumerate(self.rows):
            shown = index < len(lines)
            left.setVisible(shown)
            right.setVisible(shown)
            if shown:
                left.setText(lines[index][0])
                right.setText(lines[index][1])
                last = index == len(lines) - 1
                left.setStyleSheet("font-weight: 600;" if last else "")
                right.setStyleSheet("font-weight: 700;" if last else "")


class TotalsPanel(QFrame):
    """The running total and the one action: make the quote or the invoice."""

    def __init__(self, vm: QuickOrderViewModel) -> None:
        super().__init__()
        self.vm = vm
        self.setObjectName("card")
        box = QVBoxLayout(self)
        box.setContentsMargins(16, 12, 16, 14)
        box.setSpacing(6)
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        self.subtotal = QLabel()
        self.tax_name = QLabel("Tax")
        self.tax = QLabel()
        for row, (left, right) in enumerate(
            ((QLabel("Subtotal"), self.subtotal), (self.tax_name, self.tax))
        ):
            left.setObjectName("muted")
            right.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(left, row, 0)
            grid.addWidget(right, row, 1)
        box.addLayout(grid)
        total_row = QHBoxLayout()
        caption = QLabel("Total")
        caption.setObjectName("sectionTitle")
        self.total = QLabel()
        self.total.setObjectName("totalFigure")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        total_row.addWidget(caption)
        total_row.addWidget(self.total, 1)
        box.addLayout(total_row)
        self.estimate = QLabel("Includes an estimate: no slicer was found")
        self.estimate.setObjectName("estimate")
        self.estimate.setWordWrap(True)
        box.addWidget(self.estimate)
        self.make_quote = QPushButton("Make quote")
        self.make_quote.setObjectName("primary")
        self.make_quote.setToolTip("Ctrl+Enter")
        self.make_invoice = QPushButton("Make invoice")
        self.make_invoice.setToolTip("Ctrl+Shift+Enter")
        buttons = QHBoxLayout()
        buttons.addWidget(self.make_quote, 1)
        buttons.addWidget(self.make_invoice, 1)
        box.addLayout(buttons)
        self.email = QCheckBox("Email the Stripe link with the invoice")
        self.email.toggled.connect(lambda on: setattr(vm, "email_link", bool(on)))
        box.addWidget(self.email)
        self.blocked = QLabel()
        self.blocked.setObjectName("blocked")
        self.blocked.setWordWrap(True)
        box.addWidget(self.blocked)
        self.make_quote.clicked.connect(vm.make_quote)
        self.make_invoice.clicked.connect(vm.make_invoice)
        for signal in (
            vm.totals_changed,
            vm.client_changed,
            vm.busy_changed,
            vm.part_changed,
            vm.catalog_loading_changed,
        ):
            signal.connect(self.sync)
        self.sync()

    def sync(self, *_args: object) -> None:
        totals, money = self.vm.totals, self.vm.money
        self.subtotal.setText(money(totals.subtotal))
        self.tax_name.setText(self.vm.tax_label)
        self.tax.setText(money(totals.tax_total))
        self.total.setText(money(totals.total))
        self.estimate.setVisible(self.vm.estimated)
        reason = self.vm.blocked_reason
        self.blocked.setText(reason)
        self.blocked.setVisible(bool(reason))
        self.make_quote.setEnabled(not reason)
        self.make_invoice.setEnabled(not reason)

"""Message labels that keep their room while empty, so a message appearing (a refusal, a
field's error) never moves the buttons below it out from under the pointer."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QSizePolicy


class ReservedMessage(QLabel):
    """A word-wrapped label that holds ``lines`` lines of room whether or not it shows a message.

    While empty it is hidden (so a styled box draws nothing) but its size is retained; the
    room is that of ``lines`` blank lines in the label's own font and padding. A message longer
    than that still grows the label, which is rare by design: messages are one short sentence.
    """

    def __init__(self, name: str = "", *, lines: int = 1) -> None:
        super().__init__()
        if name:
            self.setObjectName(name)
        self.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        policy.setVerticalPolicy(QSizePolicy.Policy.Fixed)
        self.setSizePolicy(policy)
        self._blank = "\n".join(" " for _ in range(max(lines, 1)))
        self._message = ""
        self.show_message("")

    def minimumSizeHint(self) -> QSize:
        # A wrapped label's own minimum assumes a narrow width, so a longer message would ask
        # for more lines than it takes: measure it at the width it has.
        hint = super().minimumSizeHint()
        if self.width() > 0:
            return QSize(hint.width(), max(self.heightForWidth(self.width()), 0) or hint.height())
        return hint

    @property
    def message(self) -> str:
        return self._message

    def show_message(self, text: str) -> None:
        self._message = text
        # A hidden label still sizes the layout from its text: blank lines keep the room.
        self.setText(text or self._blank)
        self.setVisible(bool(text))
        self.updateGeometry()

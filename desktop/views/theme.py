"""The look of PrintDesk: one stylesheet and the colours the views share."""

from __future__ import annotations

from core.documents.paths import resources_dir

ACCENT = "#2f6fb3"
INK = "#1d2733"
MUTED = "#6b7788"
PAGE = "#eef1f5"
CARD = "#ffffff"
LINE = "#d8dde5"
OK = "#1f8a4c"
WARN = "#b7791f"
BAD = "#c0392b"

STATUS_COLOURS = {
    "PAID": OK,
    "PENDING": ACCENT,
    "PART_PAID": "#1f7a8c",
    "OVERDUE": BAD,
    "VOID": MUTED,
    "WRITTEN_OFF": WARN,
    "DRAFT": MUTED,
    "ACCEPTED": OK,
    "DECLINED": BAD,
    "CONVERTED": OK,
}

# Qt draws no arrows on a styled spin box or combo box: the stylesheet gives its own.
_ICONS = (resources_dir() / "icons").as_posix()

STYLESHEET = f"""
QMainWindow, QDialog {{ background: {PAGE}; }}
QWidget {{ color: {INK}; font-size: 10pt; }}
QFrame#rail {{ background: #1f2a37; }}
QFrame#rail QLabel#brand {{ color: #ffffff; font-size: 13pt; font-weight: 700;
    padding: 18px 16px 14px 18px; letter-spacing: 1px; }}
QFrame#rail QPushButton {{
    color: #c9d3df; background: transparent; border: none; text-align: left;
    padding: 10px 18px; font-size: 10.5pt; border-left: 3px solid transparent;
}}
QFrame#rail QPushButton:hover {{ background: #283646; color: #ffffff; }}
QFrame#rail QPushButton:checked {{
    background: #2c3c4f; color: #ffffff; border-left: 3px solid #5aa0e6; font-weight: 600;
}}
QFrame#rail QLabel#who {{ color: #93a1b3; padding: 10px 18px; font-size: 9pt; }}
QLabel#pageTitle {{ font-size: 17pt; font-weight: 700; }}
QLabel#pageSubtitle {{ color: {MUTED}; }}
QFrame#card {{ background: {CARD}; border: 1px solid {LINE}; border-radius: 10px; }}
QLabel#figure {{ font-size: 20pt; font-weight: 700; }}
QLabel#figureCaption {{ color: {MUTED}; font-size: 9.5pt; }}
QLabel#empty {{ color: {MUTED}; font-size: 11pt; padding: 40px; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#sectionTitle {{ font-size: 11.5pt; font-weight: 600; padding-top: 6px; }}
QTableView {{
    background: {CARD}; border: 1px solid {LINE}; border-radius: 8px;
    gridline-color: #eef0f3; selection-background-color: #dbe9f8; selection-color: {INK};
    alternate-background-color: #f8f9fb;
}}
QHeaderView::section {{
    background: #f4f6f9; color: {MUTED}; border: none; border-bottom: 1px solid {LINE};
    padding: 7px 8px; font-weight: 600;
}}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QDateEdit, QPlainTextEdit, QTextEdit {{
    background: #ffffff; border: 1px solid #c9d0da; border-radius: 6px; padding: 5px 8px;
    min-height: 20px;
}}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus, QSpinBox:focus,
QDoubleSpinBox:focus, QDateEdit:focus {{ border: 1px solid {ACCENT}; }}
QComboBox, QDateEdit {{ padding-right: 24px; }}
QComboBox::drop-down, QDateEdit::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right; width: 22px; border: none;
}}
QComboBox::down-arrow, QDateEdit::down-arrow {{
    image: url("{_ICONS}/chevron-down.svg"); width: 12px; height: 12px;
}}
QSpinBox, QDoubleSpinBox {{ padding-right: 22px; }}
QSpinBox::up-button, QDoubleSpinBox::up-button, QSpinBox::down-button,
QDoubleSpinBox::down-button {{
    subcontrol-origin: border; width: 20px; border: none; border-left: 1px solid #e3e7ed;
    background: transparent;
}}
QSpinBox::up-button, QDoubleSpinBox::up-button {{
    subcontrol-position: top right; border-top-right-radius: 6px;
}}
QSpinBox::down-button, QDoubleSpinBox::down-button {{
    subcontrol-position: bottom right; border-bottom-right-radius: 6px;
}}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover, QSpinBox::down-button:hover,
QDoubleSpinBox::down-button:hover {{ background: #eef3fa; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{
    image: url("{_ICONS}/chevron-up.svg"); width: 10px; height: 10px;
}}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{
    image: url("{_ICONS}/chevron-down.svg"); width: 10px; height: 10px;
}}
QSpinBox::up-arrow:disabled, QSpinBox::down-arrow:disabled, QDoubleSpinBox::up-arrow:disabled,
QDoubleSpinBox::down-arrow:disabled {{ image: none; }}
QPushButton {{
    background: #ffffff; border: 1px solid #c9d0da; border-radius: 6px; padding: 6px 14px;
}}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ color: #a8b2bf; border-color: #e0e4ea; }}
QPushButton#primary {{ background: {ACCENT}; color: #ffffff; border: 1px solid {ACCENT};
    font-weight: 600; }}
QPushButton#primary:hover {{ background: #285f9a; }}
QPushButton#primary:disabled {{ background: #a9bfd8; border-color: #a9bfd8; color: #ffffff; }}
QPushButton#danger {{ color: {BAD}; }}
QPushButton#filter {{ border-radius: 14px; padding: 4px 12px; }}
QPushButton#filter:checked {{ background: {ACCENT}; color: #ffffff; border-color: {ACCENT}; }}
QStatusBar {{ background: #ffffff; color: {MUTED}; border-top: 1px solid {LINE}; }}
QFrame#toast {{ border-radius: 8px; }}
QFrame#toast[level="info"] {{ background: #1f2a37; }}
QFrame#toast[level="warning"] {{ background: #8a5a12; }}
QFrame#toast[level="error"] {{ background: #a93226; }}
QFrame#toast QLabel {{ color: #ffffff; }}
QFrame#toast QPushButton {{ color: #ffffff; background: transparent; border: 1px solid #ffffff80; }}
QFrame#toast QPushButton#toastClose {{ padding: 4px 0; border-color: transparent; }}
QFrame#toast QPushButton#toastClose:hover {{ border-color: #ffffff80; }}
"""

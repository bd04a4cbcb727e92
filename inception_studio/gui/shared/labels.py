"""Message labels used across panels: a red one-line error and a yellow "try this" hint, hidden until set."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

STYLES = {
    "error": "color: #D55E00;",
    "hint": "background: #FFF3CD; color: #5C4400; border-radius: 3px; padding: 3px;",
}


def message_label(name: str, kind: str = "error") -> QLabel:
    """A word-wrapped, initially hidden QLabel named ``name`` in the ``kind`` style ("error" | "hint")."""
    label = QLabel("", objectName=name)
    label.setWordWrap(True)
    label.setStyleSheet(STYLES[kind])
    label.hide()
    return label

"""Unexpected errors, reachable from the window: the status bar's "Details…" button and its dialog.

A StudioError is a message for the user: one line, shown where it happened. Anything else that a worker
or a Qt slot raises is a bug or a problem of the machine: it is logged with its traceback
(``inception_studio.logs``), still shown as one line where it happened, and reported here; the window's
status bar then offers "Details…", a dialog with the line, the traceback and the log file, as napari's
notifications offer "View Traceback".
"""
from __future__ import annotations

import sys
import threading
from typing import ClassVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QPushButton, QSizePolicy, QSpacerItem, QWidget

from ...errors import StudioError, one_line
from ...logs import current_file, log_unexpected, traceback_text


class ErrorReports(QObject):
    """Where unexpected errors are announced (one per application, made on the GUI thread by ``install``)."""

    reported = Signal(str, str)  # the one line, the traceback
    _instance: ClassVar[ErrorReports | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.last: tuple[str, str] | None = None

    @classmethod
    def instance(cls) -> ErrorReports:
        """The application's reports (made now if there are none yet)."""
        if cls._instance is None:
            cls._instance = ErrorReports()
        return cls._instance

    @classmethod
    def existing(cls) -> ErrorReports | None:
        """The reports, if a window made them (a worker never makes them from its own thread)."""
        return cls._instance

    def report(self, line: str, details: str) -> None:
        """Announce an unexpected error (from any thread: the window hears it on the GUI thread)."""
        self.last = (line, details)
        self.reported.emit(line, details)


def report_unexpected(exc: BaseException, what: str = "") -> str:
    """Log ``exc`` with its traceback, announce it to the window; returns the one line to show where it happened."""
    log_unexpected(exc, what)
    line = one_line(exc)
    reports = ErrorReports.existing()
    if reports is not None:
        reports.report(line, traceback_text(exc))
    return line


def details_dialog(parent: QWidget | None, line: str, details: str) -> QMessageBox:
    """The "Details…" dialog (not yet shown): the one line, the log file, and the traceback under "Show Details"."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unexpected error", line, QMessageBox.StandardButton.Close, parent)
    box.setObjectName("errorDetailsDialog")
    log = current_file()
    box.setInformativeText("This is a bug or a problem of this machine, not of your input. "
                           + (f"The log file has the details: {log}" if log else "Details are below."))
    box.setDetailedText(details)
    grid = box.layout()  # QMessageBox sizes itself to its text: a spacer gives the traceback room to read
    grid.addItem(QSpacerItem(560, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding),
                 grid.rowCount(), 0, 1, grid.columnCount())
    return box


class DetailsButton(QPushButton):
    """The status bar's "Details…": hidden until an unexpected error is reported, then opens its details."""

    def __init__(self, window) -> None:
        super().__init__("Details…", objectName="errorDetailsButton")
        self.window_ = window
        self.setToolTip("An unexpected error happened: show what and where (the traceback)")
        self.setFlat(True)
        self.hide()
        self.clicked.connect(self.show_details)
        ErrorReports.instance().reported.connect(self.on_reported)  # a bound slot: disconnected with the button

    def on_reported(self, line: str, _details: str) -> None:
        """Show the button, and say so in the status bar."""
        self.show()
        self.window_.statusBar().showMessage(f"{line} — Details… in the status bar", 15000)

    def show_details(self) -> None:
        """Open the dialog of the last unexpected error (not modal to the event loop)."""
        last = ErrorReports.instance().last
        if last is not None:
            box = details_dialog(self.window_, *last)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # the window owns it until it closes
            box.open()


def install(window) -> DetailsButton:
    """Give ``window``'s status bar a "Details…" button, shown once an unexpected error was reported."""
    button = DetailsButton(window)
    window.statusBar().addPermanentWidget(button)
    return button


def install_excepthook() -> None:
    """Errors raised in Qt slots (which Qt would only print) are logged and reported like a worker's."""
    previous = sys.excepthook

    def hook(kind, exc, tb) -> None:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            previous(kind, exc, tb)
            return
        if isinstance(exc, StudioError):
            sys.stderr.write(f"inception-studio: {one_line(exc)}\n")
            return
        report_unexpected(exc, f"Qt slot ({threading.current_thread().name})")

    sys.excepthook = hook

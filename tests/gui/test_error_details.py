"""Unexpected errors are reachable from the window: one line where they happen, and "Details…" in the
status bar opens the traceback (a StudioError is the user's to act on and needs none)."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from inception_studio.errors import DataError
from inception_studio.gui.shared.workers import Worker

WAIT = 10000


def _broken_job():
    return {}["missing key"]  # a bug


def _run(qtbot, fn) -> str:
    worker = Worker(fn)
    with qtbot.waitSignal(worker.failed, timeout=WAIT) as blocker:
        worker.start()
    worker.wait(WAIT)
    return blocker.args[0]


def test_an_unexpected_worker_error_offers_its_traceback(qtbot, make_window, artifacts):
    win = make_window("googlenet", panels=False)
    button = win.statusBar().findChild(QPushButton, "errorDetailsButton")
    assert button is not None and button.isHidden()
    line = _run(qtbot, _broken_job)
    assert line == "KeyError: 'missing key'"  # one line where it happened, as before
    qtbot.waitUntil(button.isVisible, timeout=WAIT)
    assert "Details…" in win.statusBar().currentMessage()
    button.click()
    qtbot.waitUntil(lambda: win.findChild(QMessageBox, "errorDetailsDialog") is not None, timeout=WAIT)
    box = win.findChild(QMessageBox, "errorDetailsDialog")
    assert box.text() == line
    assert "Traceback (most recent call last)" in box.detailedText() and "_broken_job" in box.detailedText()
    win.statusBar().grab().save(str(artifacts / "error_details_status.png"))
    show = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.ActionRole)
    show.click()  # "Show Details…": the traceback
    QApplication.processEvents()
    box.grab().save(str(artifacts / "error_details.png"))
    box.close()
    QApplication.processEvents()


def test_a_studio_error_stays_one_line_without_details(qtbot, make_window):
    win = make_window("googlenet", panels=False)
    button = win.statusBar().findChild(QPushButton, "errorDetailsButton")

    def bad_input():
        raise DataError("photos: no class subfolders")
    assert _run(qtbot, bad_input) == "photos: no class subfolders"
    QApplication.processEvents()
    assert button.isHidden()

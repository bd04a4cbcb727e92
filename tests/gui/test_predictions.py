"""The top-k list as a person reads it: rows painted with their bars, exact values on hover, Copy."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QHelpEvent, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from inception_studio.gui.run.predictions import PredictionList

TOP = [("tabby cat", 0.625), ("tiger cat", 0.25), ("Egyptian cat", 0.0625), ("lynx", 0.03125), ("a fox", 0.0)]


def _shown(qtbot) -> PredictionList:
    pl = PredictionList()
    qtbot.addWidget(pl)
    pl.resize(320, pl.sizeHint().height())
    with qtbot.waitExposed(pl):
        pl.show()
    return pl


def test_bars_are_painted_in_proportion(qtbot):
    pl = _shown(qtbot)
    pl.show_top("cat.jpg", TOP)
    qtbot.wait(10)
    img = pl.grab().toImage()
    fill = pl.palette().color(QPalette.ColorRole.Highlight)

    def filled(row: int) -> int:  # highlight-coloured pixels across the middle of a row's bar
        y = pl._title_h() + row * pl._row_h() + pl._row_h() // 2
        return sum(QColor(img.pixel(x, y)) == fill for x in range(img.width()))
    widths = [filled(i) for i in range(len(TOP))]
    assert widths[0] > 0 and widths[-1] == 0
    assert abs(widths[1] / widths[0] - 0.4) < 0.05  # 0.25 / 0.625
    assert widths == sorted(widths, reverse=True)
    assert pl.rows() == TOP and pl.title() == "cat.jpg"


def test_now_paints_before_returning(qtbot):
    pl = _shown(qtbot)
    before = pl.paint_count
    pl.show_top("a.jpg", TOP)
    assert pl.paint_count == before  # scheduled
    pl.show_top("b.jpg", TOP[:2], now=True)
    assert pl.paint_count == before + 1 and pl.title() == "b.jpg"


def test_tooltip_gives_the_exact_probability_and_copy_the_list(qtbot):
    pl = _shown(qtbot)
    pl.show_top("cat.jpg", TOP)
    y = pl._title_h() + pl._row_h() + 2  # the second row
    QApplication.sendEvent(pl, QHelpEvent(QEvent.Type.ToolTip, QPoint(5, y), pl.mapToGlobal(QPoint(5, y))))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=2000)
    assert QToolTip.text() == "tiger cat: 25.00%"
    pl.setFocus()
    qtbot.keyClick(pl, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text().splitlines() == ["cat.jpg"] + [f"{n}\t{100 * p:.2f}%" for n, p in TOP]


def test_more_rows_than_planned_grow_the_widget(qtbot):
    pl = _shown(qtbot)
    h = pl.sizeHint().height()
    pl.show_top("many.jpg", TOP + [("x", 0.0), ("y", 0.0)])
    assert pl.sizeHint().height() == h + 2 * pl._row_h()
    pl.show_message("No image yet")
    assert pl.rows() == [] and pl.title() == "No image yet"

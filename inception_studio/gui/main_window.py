"""The main window: the block graph in the middle, dock panels around it (variants, inspector,
editor, statistics, block table, history, compare), menus, toolbar, status bar and shortcuts.

The window owns the SpecDocument every panel binds to. Other engineers' panels join through
:meth:`MainWindow.add_panel`; files dropped on the window open (.json) or go out as
``imagesDropped``. The dock layout, window geometry and graph orientation are remembered.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QUndoView,
    QWidget,
)

from ..core.analysis import human
from ..core.presets import get_spec
from ..core.spec import ArchSpec
from ..errors import StudioError
from . import (
    menus,
)
from . import settings as st
from .block_table import BlockTable
from .compare import ComparePanel
from .derived import summary_of
from .document import SpecDocument
from .editor import BlockEditor
from .graph_view import GraphView
from .inspector import Inspector
from .session import FileSession, read_spec_file
from .stats import StatsPanel
from .variant_list import VariantList

DEFAULT_VARIANT = "googlenet"
STATE_VERSION = 1


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area, so a dock holding it can be made small."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


class MainWindow(QMainWindow):
    """Inception Studio's main window (see the module docstring)."""

    imagesDropped = Signal(list)  # paths of non-.json files dropped on the window
    imagesHovered = Signal(list)  # the same, while a drag carrying them is over the window
    hoverEnded = Signal()  # that drag left the window
    panelsReady = Signal()  # the Run and Train panels were added after start-up (app.show_main_window)

    def __init__(self, spec: ArchSpec | None = None, dialogs: bool | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.dialogs = st.dialogs_allowed(dialogs)
        self.document = SpecDocument(spec or get_spec(DEFAULT_VARIANT), self)
        self.session = FileSession(self.document, self, self.dialogs)
        self.graph_view = GraphView(self.document)
        self.graph_view.setAcceptDrops(False)  # drops go to the window
        self.setCentralWidget(self.graph_view)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.resize(1400, 900)
        self._panels_menu = None
        menus.build_actions(self)
        menus.build_menus(self)
        menus.build_toolbar(self)
        self._build_panels()
        self._build_status()
        self._bind()
        self._default_state = self.saveState(STATE_VERSION)
        self._restore_settings()
        self._refresh_title()
        self.variants.show_current(self.document.spec.name)
        self._offer_autosave()

    # ---- actions ---------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.variants = VariantList()
        self.inspector = Inspector(self.document)
        self.editor = BlockEditor(self.document)
        self.stats = StatsPanel(self.document)
        self.table = BlockTable(self.document)
        self.history = QUndoView(self.document.undo_stack)
        self.history.setObjectName("historyView")
        self.history.setEmptyLabel("<opened>")
        self.compare = ComparePanel(self.document, self.graph_view)
        L, R, B = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.variants_dock = self.add_panel(self.variants, "Variants", "variantsDock", L)
        self.history_dock = self.add_panel(self.history, "History", "historyDock", L)
        self.editor_dock = self.add_panel(self.editor, "Block Editor", "editorDock", R)
        self.inspector_dock = self.add_panel(self.inspector, "Inspector", "inspectorDock", R)
        self.stats_dock = self.add_panel(scrolled(self.stats), "Statistics", "statsDock", R)
        self.table_dock = self.add_panel(self.table, "Block Table", "tableDock", B)
        self.compare_dock = self.add_panel(self.compare, "Compare", "compareDock", B)
        self.tabifyDockWidget(self.inspector_dock, self.stats_dock)
        self.inspector_dock.raise_()
        self.compare_dock.hide()  # Tools > Compare shows it as a tab beside the table
        self._sized = False
        self.compare_dock.visibilityChanged.connect(self.compare.set_active)
        self.compare.set_active(False)

    def _default_sizes(self) -> None:
        # Dock sizes only take once the window has its real size, i.e. when first shown.
        self.resizeDocks([self.variants_dock, self.editor_dock], [300, 370], Qt.Orientation.Horizontal)
        self.resizeDocks([self.editor_dock, self.inspector_dock], [470, 330], Qt.Orientation.Vertical)
        self.resizeDocks([self.variants_dock, self.history_dock], [520, 200], Qt.Orientation.Vertical)
        self.resizeDocks([self.table_dock], [250], Qt.Orientation.Vertical)

    def _second_tab_group(self) -> None:
        # Qt 6.12 draws a stray duplicate tab bar for a second tab group made before the window is
        # first shown, so the table/compare group is made once the window is on screen.
        visible = self.compare_dock.isVisible()
        self.tabifyDockWidget(self.table_dock, self.compare_dock)
        self.compare_dock.setVisible(visible)
        self.table_dock.raise_()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if not self._restored:
                self._second_tab_group()
                self._default_sizes()
                self._default_state = self.saveState(STATE_VERSION)
            self.graph_view.fit()

    def reset_layout(self) -> None:
        """Put every panel back where it starts."""
        self.restoreState(self._default_state, STATE_VERSION)

    def menu_named(self, title: str):
        """The menu bar's ``title`` menu ("Model", "Train"...), created just before Help when missing."""
        bar = self.menuBar()
        menus = {a.text().replace("&", ""): a for a in bar.actions() if a.menu() is not None}
        if title in menus:
            return menus[title].menu()
        menu = QMenu(f"&{title}", bar)
        before = menus.get("Help")
        if before is not None:
            bar.insertMenu(before, menu)
        else:
            bar.addMenu(menu)
        return menu

    def add_panel(self, widget: QWidget, title: str, object_name: str,
                  area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea, scroll: bool = False) -> QDockWidget:
        """Add a movable dock panel (its place is remembered between sessions) and list it under View > Panels.

        ``scroll=True`` puts a tall panel in a scroll area so it doesn't force its column's height.
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(scrolled(widget) if scroll else widget)
        self.addDockWidget(area, dock)
        if self._panels_menu is not None:
            self._panels_menu.addAction(dock.toggleViewAction())
        self.restoreDockWidget(dock)  # a panel added after start-up still goes where the user left it
        return dock

    def _build_status(self) -> None:
        self.totals_label = QLabel()
        self.totals_label.setObjectName("statusTotals")
        self.statusBar().addPermanentWidget(self.totals_label)

    # ---- bindings --------------------------------------------------------------------------
    def _bind(self) -> None:
        d = self.document
        d.specChanged.connect(lambda _s: self._refresh_title())
        d.dirtyChanged.connect(lambda _d: self._refresh_title())
        d.pathChanged.connect(lambda _p: self._refresh_title())
        d.editFailed.connect(lambda path, msg: self.statusBar().showMessage(msg, 10000))
        self.variants.variantChosen.connect(self.open_variant)
        self.session.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.compare.openFileRequested.connect(self._compare_file)

    def _refresh_title(self) -> None:
        spec, path = self.document.spec, self.document.path
        name = Path(path).name if path else spec.title
        self.setWindowTitle(f"{name}[*] — Inception Studio")
        self.setWindowModified(self.document.dirty)
        s = summary_of(spec)
        self.totals_label.setText(f"{spec.name} · {human(s.params)} params · {human(s.macs)} mult-adds · "
                                  f"{spec.input_size}x{spec.input_size}x{spec.in_channels}")

    # ---- commands --------------------------------------------------------------------------
    def open_variant(self, name: str) -> bool:
        """Load preset ``name`` (offering to save changes first) and fit the graph."""
        d = self.document
        if d.spec.name == name and not d.dirty and not d.path:
            return True  # already open as is (a click can arrive as both "clicked" and "activated")
        ok = self.session.open_variant(name)
        self.variants.show_current(self.document.spec.name if not self.document.path else None)
        if ok:
            self.graph_view.fit()
        return ok

    def open_file(self, path: str | Path) -> bool:
        """Open a spec file."""
        ok = self.session.open_path(path)
        if ok:
            self.variants.show_current(None)
            self.graph_view.fit()
        return ok

    def find(self) -> str:
        """Find the next node matching the search box."""
        text = self.search.text()
        hit = self.graph_view.find(text)
        if not hit and text.strip():
            self.statusBar().showMessage(f"No node's label contains '{text.strip()}'", 6000)
        return hit

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _toggle_orientation(self) -> None:
        self.graph_view.set_orientation("LR" if self.lr_action.isChecked() else "TB")
        st.set_value("graph/orientation", self.graph_view.orientation)

    def set_orientation(self, orientation: str) -> None:
        """Lay the graph out "TB" or "LR" (remembered)."""
        self.lr_action.setChecked(orientation == "LR")
        self._toggle_orientation()

    def export_graph(self, fmt: str, path: str | Path | None = None) -> bool:
        """Export the graph as PNG or SVG to ``path`` (asked for when None)."""
        if path is None:
            if not self.dialogs:
                self.statusBar().showMessage("Export: file dialogs are off (CI / INCEPTION_STUDIO_NO_DIALOGS)", 6000)
                return False
            from PySide6.QtWidgets import QFileDialog
            path, _ = QFileDialog.getSaveFileName(self, f"Export graph as {fmt.upper()}",
                                                  f"{self.document.spec.name}.{fmt}", f"{fmt.upper()} (*.{fmt})")
            if not path:
                return False
        try:
            (self.graph_view.export_png if fmt == "png" else self.graph_view.export_svg)(str(path))
        except StudioError as exc:
            self.session.fail(str(exc))
            return False
        self.statusBar().showMessage(f"Exported the graph to {Path(path).name}", 8000)
        return True

    def show_compare(self) -> None:
        """Show the compare panel and bring the first differing block into view."""
        self.compare_dock.show()
        self.compare_dock.raise_()
        self.compare.refresh()
        d = self.compare.diff
        if d is not None and d.blocks_a:
            first = next((n for n in self.graph_view.graph.order if n in d.blocks_a), None)
            if first:
                self.graph_view.center_on_node(first)

    def _compare_file(self) -> None:
        if not self.dialogs:
            return
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getOpenFileName(self, "Compare with spec", "", "Spec (*.json)")
        if path:
            try:
                self.compare.set_other(read_spec_file(path), Path(path).name)
            except StudioError as exc:
                self.session.fail(str(exc))

    def set_theme(self, mode: str) -> None:
        """Light, dark, or follow the system (remembered)."""
        from .app import apply_theme
        st.set_value("theme", mode)
        apply_theme(mode)

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from .. import __version__
        text = (f"Inception Studio {__version__}: explore, edit, train and run the Inception family of CNNs "
                "(GoogLeNet, BN-Inception, Inception-v3/v4, Inception-ResNet).")
        if self.dialogs:
            QMessageBox.about(self, "About Inception Studio", text)
        else:
            self.statusBar().showMessage(text, 8000)

    def _offer_autosave(self) -> None:
        pending = self.session.pending_autosave()
        self.restore_action.setEnabled(pending is not None)
        if pending is None:
            return
        if self.dialogs:
            from PySide6.QtWidgets import QMessageBox
            answer = QMessageBox.question(self, "Restore unsaved work?",
                                          "Inception Studio closed with unsaved changes. Restore them?")
            if answer == QMessageBox.StandardButton.Yes:
                self.session.restore_autosave()
            else:
                self.session.remove_autosave()
        else:
            self.statusBar().showMessage("Unsaved work from the last session: File > Restore Autosaved Spec", 15000)

    # ---- drops, settings, close ------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            if images := [p for p in _local_paths(event) if not p.lower().endswith(".json")]:
                self.imagesHovered.emit(images)

    def dragLeaveEvent(self, event) -> None:
        self.hoverEnded.emit()

    def dropEvent(self, event) -> None:
        self.handle_dropped(_local_paths(event))
        event.acceptProposedAction()

    def handle_dropped(self, paths: list[str]) -> None:
        """Open a dropped .json spec; hand every other file to ``imagesDropped``."""
        specs = [p for p in paths if p.lower().endswith(".json")]
        others = [p for p in paths if not p.lower().endswith(".json")]
        if specs:
            self.open_file(specs[0])
        if others:
            self.imagesDropped.emit(others)

    def _restore_settings(self) -> None:
        geo, state = st.value("window/geometry"), st.value("window/state")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        self._restored = isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION)
        orientation = st.value("graph/orientation", "TB")
        if orientation == "LR":
            self.lr_action.setChecked(True)
            self.graph_view.set_orientation("LR")

    def save_settings(self) -> None:
        """Remember the window geometry, dock layout and graph orientation."""
        s = st.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.setValue("graph/orientation", self.graph_view.orientation)
        s.sync()

    def closeEvent(self, event) -> None:
        if not self.session.maybe_save():
            event.ignore()
            return
        self.save_settings()
        self.session.timer.stop()
        event.accept()


def _local_paths(event) -> list[str]:
    """The local files a drag or drop event carries."""
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]

"""The main window: the block graph in the middle, dock panels around it in three workspaces (Explore,
Classify, Train), menus, toolbar with the workspace tabs, status bar and shortcuts.

The window owns the SpecDocument every panel binds to, the panel registry (``window.panels``), the
action registry (``window.action_registry``; ``window.action(key)``, ``window.menu(key)``) and the
workspace manager (``window.workspaces``). Other engineers' panels join through
``window.panels.add(key, widget, title, workspace)``; files dropped on the window open (.json) or go
out as ``imagesDropped``. Window geometry, each workspace's layout and the graph orientation are remembered.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QTabBar,
    QUndoView,
    QWidget,
)

from ..core.analysis import human
from ..core.names import safe_filename
from ..core.presets import get_spec
from ..core.identity import preset_name
from ..core.spec import ArchSpec
from ..errors import StudioError
from .explain.install import install as install_explain
from .shared.error_details import install as install_error_details
from .graph.view import GraphView
from .shared import settings as st
from .shared.actions import ActionRegistry, build_toolbar, build_window_actions
from .shared.derived import summary_of
from .shared.document import SpecDocument
from .shared.registry import PanelRegistry
from .shared.session import FileSession, read_spec_file
from .shared.theme import apply_theme
from .shared.workspaces import WORKSPACES, WorkspaceManager
from .spec.block_table import BlockTable
from .spec.compare import ComparePanel
from .spec.editor import BlockEditor
from .spec.inspector import Inspector
from .spec.stats import StatsPanel
from .spec.variant_list import VariantList

DEFAULT_VARIANT = "googlenet"
DEFAULT_SIZE = (1280, 800)


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
        # Not AnimatedDocks: a workspace switch then slid its docks into place over ~15 frames, each a layout
        # and a paint of the whole window.
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.panels = PanelRegistry(self)
        self.workspaces = WorkspaceManager(self, self.panels)
        self.action_registry = ActionRegistry(self)
        self._build_workspace_tabs()
        build_window_actions(self)
        build_toolbar(self)
        self._build_panels()
        self._build_status()
        self._bind()
        self._sized = False
        self._restore_settings()
        self._refresh_title()
        self._show_variant()
        self._offer_autosave()

    # ---- registries --------------------------------------------------------------------------
    def action(self, key: str):
        """The action registered as ``key`` (e.g. "fitAction", "buildModelAction"), or None."""
        return self.action_registry.get(key)

    def menu(self, key: str) -> QMenu:
        """The menu-bar menu ``key`` ("file", "edit", "view", "model", "train", "tools", "help")."""
        return self.action_registry.menu(key)

    def _build_workspace_tabs(self) -> None:
        self.workspace_tabs = tabs = QTabBar()
        tabs.setObjectName("workspaceTabs")
        tabs.setDrawBase(False)
        tabs.setExpanding(False)
        for i, ws in enumerate(WORKSPACES.values()):
            tabs.addTab(ws.title)
            tabs.setTabToolTip(i, f"{ws.tip} ({ws.shortcut})")
            tabs.setTabData(i, ws.key)
            self.action_registry.add(f"{ws.key}WorkspaceAction", f"{ws.title} Workspace",
                                     lambda _c=False, k=ws.key: self.workspaces.switch(k), shortcut=ws.shortcut,
                                     tip=ws.tip, menu="view")
        tabs.setCurrentIndex(list(WORKSPACES).index(self.workspaces.current))
        tabs.currentChanged.connect(lambda i: self.workspaces.switch(tabs.tabData(i)))
        self.workspaces.switched.connect(lambda k: tabs.setCurrentIndex(list(WORKSPACES).index(k)))
        self.action_registry.add("resetLayoutAction", "Reset Workspace Layout", lambda: self.workspaces.reset(),
                                 tip="Put this workspace's panels back where they were designed to be", menu="view")
        self.action_registry.separator("view")

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
        add = self.panels.add
        add("variants", self.variants, "Variants", "explore")
        add("history", self.history, "History", "explore")
        add("editor", self.editor, "Block Editor", "explore")
        add("inspector", self.inspector, "Inspector", "explore")
        add("stats", self.stats, "Statistics", "explore", scroll=True)
        add("table", self.table, "Block Table", "explore")
        add("compare", self.compare, "Compare", "explore")
        compare_dock = self.panels.dock("compare")
        compare_dock.visibilityChanged.connect(lambda on: self.compare.set_active(on and not compare_dock.isHidden()))
        self.compare.set_active(False)
        install_explain(self)  # the Why? panel, Tools -> Why This Block?, Help -> Tour

    def fill_panels_menu(self) -> None:
        """View → Panels: every panel by workspace; choosing one shows its workspace and raises it."""
        menu = self.panels_menu
        menu.clear()
        for ws in WORKSPACES.values():
            menu.addSection(ws.title)
            for p in self.panels.in_workspace(ws.key):
                a = menu.addAction(p.title)
                a.setObjectName(f"show_{p.key}")
                a.triggered.connect(lambda _c=False, k=p.key: self.workspaces.reveal(k))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            fit_to_screen(self)
            self.workspaces.start()
            self.graph_view.fit()

    def reset_layout(self) -> None:
        """Put the current workspace's panels back where they were designed to be."""
        self.workspaces.reset()

    def _build_status(self) -> None:
        self.totals_label = QLabel()
        self.totals_label.setObjectName("statusTotals")
        self.statusBar().addPermanentWidget(self.totals_label)
        install_error_details(self)  # "Details…" once an unexpected error happened

    # ---- bindings --------------------------------------------------------------------------
    def _bind(self) -> None:
        d = self.document
        d.specChanged.connect(lambda _s: (self._refresh_title(), self._show_variant()))
        d.dirtyChanged.connect(lambda _d: self._refresh_title())
        d.pathChanged.connect(lambda _p: self._refresh_title())
        d.editFailed.connect(lambda path, msg: self.statusBar().showMessage(msg, 10000))
        self.variants.variantChosen.connect(self.open_variant)
        self.session.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.compare.openFileRequested.connect(self._compare_file)

    def _show_variant(self) -> None:
        """Highlight the preset the document is, exactly; none for an edited spec or one of its own."""
        self.variants.show_current(preset_name(self.document.spec))

    def _refresh_title(self) -> None:
        spec, path = self.document.spec, self.document.path
        name = Path(path).name if path else spec.title
        self.setWindowTitle(f"{name}[*] — Inception Studio")
        self.setWindowModified(self.document.dirty)
        s = summary_of(spec)
        self.totals_label.setText(f"{spec.name} · {human(s.params_main)} params · {human(s.macs)} mult-adds · "
                                  f"{spec.input_size}x{spec.input_size}x{spec.in_channels}")

    # ---- commands --------------------------------------------------------------------------
    def open_variant(self, name: str) -> bool:
        """Load preset ``name`` (offering to save changes first) and fit the graph."""
        d = self.document
        if d.spec.name == name and not d.dirty and not d.path:
            return True  # already open as is (a click can arrive as both "clicked" and "activated")
        ok = self.session.open_variant(name)
        self._show_variant()
        if ok:
            self.graph_view.fit()
        return ok

    def open_file(self, path: str | Path) -> bool:
        """Open a spec file."""
        ok = self.session.open_path(path)
        if ok:
            self._show_variant()
            self.graph_view.fit()
        return ok

    def find(self) -> str:
        """Find the next node matching the search box."""
        text = self.search.text()
        hit = self.graph_view.find(text)
        if not hit and text.strip():
            self.statusBar().showMessage(f"No node's label contains '{text.strip()}'", 6000)
        return hit

    def focus_search(self) -> None:
        """Edit → Find Block: put the focus in the search box, its text selected."""
        self.search.setFocus()
        self.search.selectAll()

    def set_orientation_checked(self, left_to_right: bool) -> None:
        """View → Left to Right Layout toggled."""
        self.graph_view.set_orientation("LR" if left_to_right else "TB")
        st.set_value("graph/orientation", self.graph_view.orientation)

    def set_orientation(self, orientation: str) -> None:
        """Lay the graph out "TB" or "LR" (remembered)."""
        action = self.action("layoutLRAction")
        if action.isChecked() != (orientation == "LR"):
            action.setChecked(orientation == "LR")  # toggled -> set_orientation_checked
        else:
            self.set_orientation_checked(orientation == "LR")

    def export_graph(self, fmt: str, path: str | Path | None = None) -> bool:
        """Export the graph as PNG or SVG to ``path`` (asked for when None)."""
        if path is None:
            if not self.dialogs:
                self.statusBar().showMessage("Export: file dialogs are off (CI / INCEPTION_STUDIO_NO_DIALOGS)", 6000)
                return False
            from PySide6.QtWidgets import QFileDialog
            path, _ = QFileDialog.getSaveFileName(self, f"Export graph as {fmt.upper()}",
                                                  f"{safe_filename(self.document.spec.name)}.{fmt}",
                                                  f"{fmt.upper()} (*.{fmt})")
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
        self.workspaces.reveal("compare")
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
        st.set_value("theme", mode)
        apply_theme(mode)

    def about(self) -> None:
        """Help → About."""
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
        self.action("restoreAutosaveAction").setEnabled(pending is not None)
        if pending is None:
            return
        if self.dialogs:
            from PySide6.QtWidgets import QMessageBox
            answer = QMessageBox.question(self, "Restore unsaved work?",
                                          "Inception Studio closed with unsaved changes. Restore them?")
            if answer == QMessageBox.StandardButton.Yes:
                self.session.restore_autosave(pending)
            else:
                self.session.discard_autosave(pending)
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
        """Open a dropped .json spec (of several, the first that reads; the message names the rest);
        hand every other file to ``imagesDropped``."""
        specs = [p for p in paths if p.lower().endswith(".json")]
        others = [p for p in paths if not p.lower().endswith(".json")]
        if specs and self.session.open_paths(specs):
            self._show_variant()
            self.graph_view.fit()
        if others:
            self.imagesDropped.emit(others)

    def _restore_settings(self) -> None:
        geo = st.value("window/geometry")
        if not (isinstance(geo, QByteArray) and self.restoreGeometry(geo)):
            first_size(self)
        fit_to_screen(self)
        if st.value("graph/orientation", "TB") == "LR":
            self.set_orientation("LR")

    def save_settings(self) -> None:
        """Remember the window geometry, the current workspace's layout and the graph orientation."""
        self.workspaces.save()
        s = st.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("graph/orientation", self.graph_view.orientation)
        st.flush()

    def closeEvent(self, event) -> None:
        if not self.session.maybe_save():
            event.ignore()
            return
        self.save_settings()
        self.session.close()
        event.accept()


def _local_paths(event) -> list[str]:
    """The local files a drag or drop event carries."""
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]


def first_size(window: QWidget) -> None:
    """First start: 1280x800 on a laptop, most of a larger screen (centred), never more than the screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*DEFAULT_SIZE)
        return
    avail = screen.availableGeometry()
    w = min(avail.width(), max(DEFAULT_SIZE[0], int(avail.width() * 0.85)))
    h = min(avail.height(), max(DEFAULT_SIZE[1], int(avail.height() * 0.85)))
    window.setGeometry(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2, w, h)


def fit_to_screen(window: QWidget) -> None:
    """Keep ``window`` inside its screen's available geometry (shrunk and moved when larger or off screen)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    frame = window.frameGeometry()
    extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
    w = min(window.width(), avail.width() - extra_w)
    h = min(window.height(), avail.height() - extra_h)
    if (w, h) != (window.width(), window.height()):
        window.resize(w, h)
    x = min(max(frame.x(), avail.left()), avail.right() + 1 - w - extra_w)
    y = min(max(frame.y(), avail.top()), avail.bottom() + 1 - h - extra_h)
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)

"""DeviceBar: where the model runs and how it is built — the device selector, the weights in use, the
Build button, build progress and the last build message; plus the Model menu, File → Export ONNX…,
and the dialogs they open (load checkpoint, load pretrained, export path, export report).

Pure presentation: the InferenceController (gui/inference.py) listens to ``buildRequested`` and
``deviceChanged`` and reports progress back through ``begin`` / ``progress`` / ``done`` / ``fail``.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


ERROR_STYLE = "color: palette(highlighted-text); background: #b3261e; border-radius: 3px; padding: 2px 6px;"


class DeviceBar(QWidget):
    """Device selector (``deviceSelector``), weights label, Build button, progress bar and status line."""

    buildRequested = Signal()
    deviceChanged = Signal(str)  # device id: "cuda:0", "mps", "cpu"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.selector = QComboBox(objectName="deviceSelector")
        self.selector.setToolTip("Where the model is built and run; the best device is chosen by default")
        self.selector.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.selector.setMinimumContentsLength(18)
        self.weights_label = QLabel("weights: random init", objectName="weightsLabel")
        self.weights_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.build_button = QPushButton("Build model", objectName="buildButton")
        self.build_button.setToolTip("Build the current spec on the chosen device (weights carry over where they fit)")
        self.progress_bar = QProgressBar(objectName="buildProgress")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        self.progress_bar.hide()
        self.status = QLabel("No model built yet — drop images to build one, or use Build model.",
                             objectName="buildStatus")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Device"), 0, 0)
        grid.addWidget(self.selector, 0, 1)
        grid.addWidget(self.build_button, 0, 2)
        grid.addWidget(self.weights_label, 1, 0, 1, 3)
        grid.addWidget(self.progress_bar, 2, 0, 1, 3)
        grid.addWidget(self.status, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)

        self.build_button.clicked.connect(self.buildRequested)
        self.selector.currentIndexChanged.connect(self._on_index)
        # Listing devices imports torch: the controller does it on a worker and calls set_devices().
        self.selector.addItem("detecting devices…", None)

    # ---- devices ---------------------------------------------------------------------------
    def set_devices(self, devices) -> None:
        """Fill the selector from engine.device.list_devices() (best first) and select the best."""
        self.selector.blockSignals(True)
        self.selector.clear()
        for d in devices:
            self.selector.addItem(d.label, d.id)
            self.selector.setItemData(self.selector.count() - 1, d.label, Qt.ItemDataRole.ToolTipRole)
        self.selector.setCurrentIndex(0)
        self.selector.blockSignals(False)

    def device_id(self) -> str:
        """The selected device id ("auto", the best one, while devices are still being listed)."""
        return str(self.selector.currentData() or "auto")

    def set_device(self, device_id: str) -> None:
        """Select ``device_id`` if it is listed."""
        i = self.selector.findData(device_id)
        if i >= 0:
            self.selector.setCurrentIndex(i)

    def _on_index(self, _i: int) -> None:
        self.deviceChanged.emit(self.device_id())

    # ---- state -----------------------------------------------------------------------------
    def set_weights_label(self, text: str) -> None:
        """Show which weights the next build uses."""
        self.weights_label.setText(f"weights: {text}")

    def begin(self, message: str) -> None:
        """A build (or move, or export) started."""
        self.build_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self._set_status(message)

    def progress(self, fraction: float | None, message: str) -> None:
        """Show a step; ``fraction`` None means "busy, no estimate"."""
        if fraction is None:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(round(100 * fraction))
        self._set_status(message)

    def done(self, message: str) -> None:
        """The work finished."""
        self.build_button.setEnabled(True)
        self.progress_bar.hide()
        self._set_status(message)

    def fail(self, message: str) -> None:
        """The work failed: the one-line reason stays visible until the next build."""
        self.build_button.setEnabled(True)
        self.progress_bar.hide()
        self._set_status(message, error=True)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setProperty("error", error)


class PretrainedDialog(QDialog):
    """Choose a pretrained ImageNet source, and whether to download it or read a local file."""

    def __init__(self, sources: list, preferred: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Load pretrained weights")
        self.setObjectName("pretrainedDialog")
        self.source = QComboBox(objectName="pretrainedSource")
        for record in sources:  # core.sources.WeightSource: the registry's own record for each
            self.source.addItem(record.name)
            self.source.setItemData(self.source.count() - 1, _describe_source(record), Qt.ItemDataRole.ToolTipRole)
        if preferred in [r.name for r in sources]:
            self.source.setCurrentText(preferred)
        self.where = QLabel(objectName="pretrainedWhere")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        urls = {r.name: r.url for r in sources}
        show_url = lambda name: self.where.setText(f"Published at {urls[name]}" if urls.get(name) else "")  # noqa: E731
        self.source.currentTextChanged.connect(show_url)
        show_url(self.source.currentText())
        self.download = QRadioButton("Download through torchvision / timm (needs internet)")
        self.from_file = QRadioButton("Read a local weights file:")
        group = QButtonGroup(self)
        group.addButton(self.download)
        group.addButton(self.from_file)
        self.download.setChecked(True)
        self.path = QLineEdit(objectName="pretrainedPath")
        self.path.setPlaceholderText("a .pth / .pt / .safetensors state dict")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.path.textEdited.connect(lambda _t: self.from_file.setChecked(True))
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Weights of"))
        lay.addWidget(self.source)
        lay.addWidget(self.download)
        lay.addWidget(self.from_file)
        lay.addLayout(row)
        lay.addWidget(self.where)
        note = QLabel("Blocks you edited keep random weights; the graph marks them.")
        note.setWordWrap(True)
        lay.addWidget(note)
        lay.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pretrained weights file", "",
                                              "Weights (*.pth *.pt *.bin *.safetensors);;All files (*)")
        if path:
            self.path.setText(path)
            self.from_file.setChecked(True)

    def choice(self) -> tuple[str, str]:
        """(source, local path or "" to download)."""
        path = self.path.text().strip() if self.from_file.isChecked() else ""
        return self.source.currentText(), path


def _describe_source(record) -> str:
    """A source's tooltip: what it fits, its published accuracy and where it is published."""
    meta = ", ".join(f"{k} {v}" for k, v in record.meta.items())
    return f"{record.name}: weights of the {record.preset} preset" + (f" ({meta})" if meta else "") + \
        (f"\n{record.url}" if record.url else "")


def ask_checkpoint(parent: QWidget) -> str:
    """Ask for a checkpoint file ("" when cancelled or dialogs are off)."""
    from ..shared.settings import dialogs_allowed
    if not dialogs_allowed():
        return ""
    path, _ = QFileDialog.getOpenFileName(parent, "Load checkpoint", "", "Checkpoints (*.safetensors);;All files (*)")
    return path


def ask_pretrained(parent: QWidget, preferred: str = "") -> tuple[str, str] | None:
    """Ask which pretrained weights to load: (source, local file or "" to download), None when cancelled."""
    from ...core.sources import SOURCES
    from ..shared.settings import dialogs_allowed
    if not dialogs_allowed():
        return None
    dialog = PretrainedDialog(list(SOURCES.values()), preferred, parent)
    return dialog.choice() if dialog.exec() else None


def ask_onnx_path(parent: QWidget, default_name: str) -> str:
    """Ask where to write an ONNX file ("" when cancelled or dialogs are off); adds .onnx if missing."""
    from ..shared.settings import dialogs_allowed
    if not dialogs_allowed():
        return ""
    path, _ = QFileDialog.getSaveFileName(parent, "Export ONNX", default_name, "ONNX (*.onnx)")
    return path if not path or path.endswith(".onnx") else path + ".onnx"


def show_report(parent: QWidget, title: str, text: str) -> None:
    """A non-blocking information box (skipped when dialogs are off; the status bar has the text too)."""
    from PySide6.QtWidgets import QMessageBox

    from ..shared.settings import dialogs_allowed
    if not dialogs_allowed():
        return
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
    box.setObjectName("onnxReport")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()

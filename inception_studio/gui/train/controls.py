"""The Train panel's run controls: checkpoint path, Train / Pause / Stop / Resume…, progress, status, hint, error.

Widgets only; the panel (panel.py) decides what they do. ``sync(running)`` enables what makes sense while a
run is on or off; ``fail(message)`` shows a one-line error in red.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...paths import cache_dir
from ..shared.labels import message_label


class RunControls(QWidget):
    """Checkpoint row, run buttons, progress bar and the status / hint / error lines (see the module docstring)."""

    CHOOSE = "Choose the data, then press Train."
    READY = "Data ready: press Train (Ctrl+Shift+T)."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.out = QLineEdit(objectName="checkpointPath")
        self.out.setPlaceholderText(f"automatic: {cache_dir() / 'runs'}/<variant>-<time>.safetensors")
        self.out.setToolTip("The last checkpoint; the best one (.best) and the resume state (.state) go beside it")
        self.train_button = QPushButton("Train", objectName="trainButton")
        self.train_button.setToolTip("Train the network in the Model workspace on the data above (Ctrl+Shift+T)")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Hold the run where it is; press again to go on")
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.stop_button.setToolTip("Stop after this step; the weights so far are kept and saved")
        self.resume_button = QPushButton("Resume…", objectName="resumeButton")
        self.resume_button.setToolTip("Continue a run from its checkpoint: weights, optimizer state, epoch and step")
        self.progress = QProgressBar(objectName="trainProgress")
        self.progress.setFormat("%v / %m steps")
        self.status = QLabel(self.CHOOSE, objectName="trainStatus")
        self.status.setWordWrap(True)
        self.hint = message_label("trainHint", "hint")
        self.error = message_label("trainError")

        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Checkpoint"))
        out_row.addWidget(self.out, 1)
        out_row.addWidget(self.resume_button)
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(out_row)
        lay.addLayout(buttons)
        for w in (self.progress, self.status, self.hint, self.error):
            lay.addWidget(w)

    def sync(self, running: bool) -> None:
        """Train and Resume… while idle; Pause and Stop while a run is on."""
        self.train_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)

    def idle(self, has_data: bool) -> None:
        """The status line between runs: what to do next (data chosen, or not yet)."""
        self.status.setText(self.READY if has_data else self.CHOOSE)

    def fail(self, message: str) -> None:
        """Show ``message`` as the red error line."""
        self.error.setText(message)
        self.error.show()

"""RecipeForm: the model-sizing and recipe settings of a training run, bound to engine.train.TrainConfig.

Choosing a recipe (GoogLeNet's SGD, Inception-v3's RMSProp, AdamW) fills in the papers' defaults;
every field can then be changed. ``config()`` reads the form into a TrainConfig, ``set_config``
writes one back (used when resuming a run). Widgets only: no engine work happens here.
"""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..engine.device import list_devices, use_channels_last
from ..engine.train import SMALL_SIZE, SMALL_WIDTH, TrainConfig, recipe_defaults

RECIPE_LABELS = {
    "googlenet": ("GoogLeNet (SGD)", "SGD with momentum 0.9; the learning rate drops 4% every 8 epochs [GoogLeNet]"),
    "inception_v3": ("Inception-v3 (RMSProp)", "RMSProp (decay 0.9, ε 1.0), lr 0.045 × 0.94 every 2 epochs, "
                     "label smoothing 0.1, gradient clip 2.0 [Inception-v3, also v4]"),
    "adamw": ("AdamW", "AdamW, lr 0.001 with a cosine schedule, weight decay 0.05, label smoothing 0.1"),
}


def _row(*widgets: QWidget) -> QHBoxLayout:
    """Widgets side by side, left-aligned."""
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    row.addStretch(1)
    return row


def family_recipe(spec_name: str) -> str:
    """The recipe a variant was trained with in its paper (GoogLeNet-era: SGD; v3 and later: RMSProp)."""
    return "googlenet" if spec_name.startswith(("googlenet", "nin", "bn_inception")) else "inception_v3"


def _spin(name: str, lo: int, hi: int, value: int, tip: str = "") -> QSpinBox:
    s = QSpinBox(objectName=name)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


def _dspin(name: str, lo: float, hi: float, value: float, step: float, decimals: int, tip: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox(objectName=name)
    s.setDecimals(decimals)
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    s.setToolTip(tip)
    return s


class RecipeForm(QWidget):
    """Start-from / small-model / recipe / runtime settings; ``changed`` fires on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._base = recipe_defaults("googlenet")
        # ---- model
        self.init = QComboBox(objectName="initCombo")
        self.init.addItem("Scratch (random weights)", "scratch")
        self.init.addItem("Current weights (fine-tune)", "current")
        self.init.setToolTip("Fine-tuning keeps every block whose shape still fits and re-initialises the rest "
                             "(always the classifier, sized for the data's classes)")
        self.small = QCheckBox("Small model for the CPU", objectName="smallSwitch")
        self.small.setToolTip("Scale the widths and the input down so an epoch takes seconds, not hours")
        self.width = _dspin("widthMult", 0.05, 2.0, SMALL_WIDTH, 0.05, 3, "Width multiplier (relative to the preset)")
        self.size = _spin("imageSize", 16, 1024, SMALL_SIZE, "Input size in pixels (aux heads go off if too small)")
        self.size.setSingleStep(8)
        self.size.setSuffix(" px")
        self.estimate = QLabel("", objectName="epochEstimate")
        self.estimate.setWordWrap(True)
        sizing = QHBoxLayout()
        sizing.addSpacing(20)  # under the switch's check box: these belong to it
        sizing.addWidget(QLabel("width ×"))
        sizing.addWidget(self.width)
        sizing.addWidget(QLabel("input"))
        sizing.addWidget(self.size)
        sizing.addStretch(1)
        model = QGroupBox("Model")
        mf = QFormLayout(model)
        mf.addRow("Start from", self.init)
        mf.addRow(self.small)
        mf.addRow(sizing)
        mf.addRow(self.estimate)
        # ---- recipe
        self.recipe = QComboBox(objectName="recipeCombo")
        for key, (label, tip) in RECIPE_LABELS.items():
            self.recipe.addItem(label, key)
            self.recipe.setItemData(self.recipe.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.recipe_note = QLabel("", objectName="recipeNote")
        self.recipe_note.setWordWrap(True)
        self.recipe_note.setStyleSheet("color: palette(placeholder-text);")
        self.optimizer = QComboBox(objectName="optimizerCombo")
        self.optimizer.addItems(["sgd", "rmsprop", "adamw"])
        self.schedule = QComboBox(objectName="scheduleCombo")
        self.schedule.addItems(["step", "cosine", "constant"])
        self.lr = _dspin("lrSpin", 1e-6, 10.0, 0.01, 0.001, 6, "Learning rate at the start of the schedule")
        self.epochs = _spin("epochsSpin", 1, 10000, 10)
        self.batch = _spin("batchSpin", 1, 4096, 32)
        self.smoothing = _dspin("smoothingSpin", 0.0, 0.5, 0.0, 0.05, 2, "Label smoothing (0.1 in Inception-v3)")
        self.aux_weight = _dspin("auxWeightSpin", -0.05, 2.0, -0.05, 0.05, 2,
                                 "Weight of each aux head's loss (spec default: 0.3 GoogLeNet, 0.4 v3)")
        self.aux_weight.setSpecialValueText("spec default")
        self.clip = _dspin("clipSpin", 0.0, 100.0, 0.0, 0.5, 1, "Gradient-norm clipping (2.0 in Inception-v3)")
        self.clip.setSpecialValueText("off")
        self.crop = QCheckBox("random crop", objectName="augmentCrop")
        self.flip = QCheckBox("flip", objectName="augmentFlip")
        self.jitter = QCheckBox("colour jitter", objectName="augmentJitter")
        aug = QGridLayout()  # two rows: the panel stays narrow enough for a side dock
        for i, c in enumerate((self.crop, self.flip, self.jitter)):
            c.setChecked(True)
            aug.addWidget(c, i // 2, i % 2)
        recipe = QGroupBox("Recipe")
        rf = QFormLayout(recipe)
        rf.addRow("Recipe", self.recipe)
        rf.addRow(self.recipe_note)
        rf.addRow("Optimizer", _row(self.optimizer, self.schedule))
        rf.addRow("Learning rate", self.lr)
        rf.addRow("Epochs", _row(self.epochs, QLabel("batch"), self.batch))
        rf.addRow("Label smoothing", self.smoothing)
        rf.addRow("Aux loss weight", self.aux_weight)
        rf.addRow("Gradient clip", self.clip)
        rf.addRow("Augment", aug)
        # ---- runtime
        self.device = QComboBox(objectName="deviceCombo")
        for d in list_devices():
            self.device.addItem(d.label, d.id)
        for combo in (self.device, self.init, self.recipe):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        self.amp = QCheckBox("mixed precision", objectName="ampCheck")
        self.channels_last = QCheckBox("channels-last", objectName="channelsLastCheck")
        self.seed = _spin("seedSpin", 0, 2**31 - 1, 0, "Random seed (weights, split, shuffling)")
        runtime = QGroupBox("Runtime")
        tf = QFormLayout(runtime)
        tf.addRow("Device", self.device)
        tf.addRow("GPU", _row(self.amp, self.channels_last))
        tf.addRow("Seed", self.seed)
        for form in (mf, rf, tf):
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(model)
        lay.addWidget(recipe)
        lay.addWidget(runtime)

        self.recipe.currentIndexChanged.connect(lambda _i: self.apply_recipe(self.recipe.currentData()))
        self.device.currentIndexChanged.connect(lambda _i: self._device_policy())
        self.small.toggled.connect(self._small_policy)
        for w in (self.init, self.optimizer, self.schedule, self.device):
            w.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for w in (self.width, self.size, self.lr, self.epochs, self.batch, self.smoothing, self.aux_weight,
                  self.clip, self.seed):
            w.valueChanged.connect(lambda _v: self.changed.emit())
        for w in (self.small, self.crop, self.flip, self.jitter, self.amp, self.channels_last):
            w.toggled.connect(lambda _b: self.changed.emit())
        self.apply_recipe("googlenet")
        self.small.setChecked(True)
        self._device_policy()

    # ---- policies ------------------------------------------------------------------------------
    def _small_policy(self, on: bool) -> None:
        self.width.setEnabled(on)
        self.size.setEnabled(on)

    def _device_policy(self) -> None:
        """Mixed precision and channels-last only mean something on a GPU."""
        gpu = use_channels_last(self.device.currentData() or "cpu")
        gpu_or_mps = (self.device.currentData() or "cpu") != "cpu"
        self.amp.setEnabled(gpu_or_mps)
        self.channels_last.setEnabled(gpu)
        self.amp.setChecked(gpu_or_mps)
        self.channels_last.setChecked(gpu)

    def set_spec_defaults(self, spec_name: str, small_size: int) -> None:
        """Pick the variant's own recipe and a small input that the variant accepts."""
        self.size.setMinimum(16)
        self.size.setValue(small_size)
        index = self.recipe.findData(family_recipe(spec_name))
        if index != self.recipe.currentIndex():
            self.recipe.setCurrentIndex(index)
        else:
            self.apply_recipe(family_recipe(spec_name))

    def apply_recipe(self, name: str) -> None:
        """Fill in recipe ``name``'s defaults (keeping epochs and batch size)."""
        cfg = recipe_defaults(name, epochs=self.epochs.value(), batch_size=self.batch.value())
        self._base = cfg
        self.set_config(cfg, sizing=False)
        self.recipe_note.setText(RECIPE_LABELS[name][1])

    # ---- TrainConfig <-> widgets ---------------------------------------------------------------------
    def config(self, **extra) -> TrainConfig:
        """The form as a TrainConfig (``extra`` fields on top, e.g. out=...)."""
        cfg = replace(self._base, recipe=self.recipe.currentData(), optimizer=self.optimizer.currentText(),
                      lr=self.lr.value(), schedule=self.schedule.currentText(), epochs=self.epochs.value(),
                      batch_size=self.batch.value(), label_smoothing=self.smoothing.value(),
                      aux_weight=None if self.aux_weight.value() < 0 else self.aux_weight.value(),
                      grad_clip=self.clip.value() or None, augment=self.crop.isChecked() or self.flip.isChecked()
                      or self.jitter.isChecked(), crop_scale=self._base.crop_scale if self.crop.isChecked()
                      else (1.0, 1.0), flip=self.flip.isChecked(),
                      color_jitter=self._base.color_jitter if self.jitter.isChecked() else 0.0,
                      amp=self.amp.isChecked(), channels_last=self.channels_last.isChecked(), seed=self.seed.value(),
                      device=self.device.currentData() or "cpu",
                      width_mult=self.width.value() if self.small.isChecked() else None,
                      image_size=self.size.value() if self.small.isChecked() else None)
        return replace(cfg, **extra) if extra else cfg

    def set_config(self, cfg: TrainConfig, sizing: bool = True) -> None:
        """Show ``cfg`` in the widgets (``sizing``: also the width / image size)."""
        self._base = cfg
        self.blockSignals(True)
        try:
            index = self.recipe.findData(cfg.recipe)
            self.recipe.blockSignals(True)
            self.recipe.setCurrentIndex(max(0, index))
            self.recipe.blockSignals(False)
            self.optimizer.setCurrentText(cfg.optimizer)
            self.lr.setValue(cfg.lr)
            self.schedule.setCurrentText(cfg.schedule)
            self.epochs.setValue(cfg.epochs)
            self.batch.setValue(cfg.batch_size)
            self.smoothing.setValue(cfg.label_smoothing)
            self.aux_weight.setValue(-0.05 if cfg.aux_weight is None else cfg.aux_weight)
            self.clip.setValue(cfg.grad_clip or 0.0)
            self.crop.setChecked(cfg.augment and tuple(cfg.crop_scale) != (1.0, 1.0))
            self.flip.setChecked(cfg.augment and cfg.flip)
            self.jitter.setChecked(cfg.augment and cfg.color_jitter > 0)
            self.seed.setValue(cfg.seed)
            if sizing:
                self.small.setChecked(cfg.width_mult is not None or cfg.image_size is not None)
                if cfg.width_mult is not None:
                    self.width.setValue(cfg.width_mult)
                if cfg.image_size is not None:
                    self.size.setValue(cfg.image_size)
        finally:
            self.blockSignals(False)
        self.changed.emit()

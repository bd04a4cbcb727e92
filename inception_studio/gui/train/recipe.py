"""RecipeForm: the start-from, what-trains, sizing and recipe settings of a run, bound to TrainConfig.

The recipe is "Auto (for this data)" unless the user picks one: the panel computes it from the data
and the model (engine.training.auto) and shows it here with its reason. The papers' recipes
(GoogLeNet's SGD, Inception-v3's RMSProp, AdamW) fill in their defaults by name. Every field can be
changed afterwards. ``config()`` reads the form into a TrainConfig; ``set_config`` writes one back.
Widgets only: no engine work happens here.
"""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.device import autocast_dtype, list_devices, use_channels_last
from ...engine.training.config import SMALL_SIZE, SMALL_WIDTH, TrainConfig, recipe_defaults
from ..shared.inputs import ComboBox, DoubleSpinBox, SpinBox

RECIPE_LABELS = {
    "auto": ("Auto (for this data)", "Chosen from your images and the model: AdamW one-cycle, mild crops, flips "
             "only for photos, enough epochs for a few hundred steps"),
    "googlenet": ("GoogLeNet (SGD)", "SGD with momentum 0.9; the learning rate drops 4% every 8 epochs [GoogLeNet]"),
    "inception_v3": ("Inception-v3 (RMSProp)", "RMSProp (decay 0.9, ε 1.0), lr 0.045 × 0.94 every 2 epochs, "
                     "label smoothing 0.1, gradient clip 2.0 [Inception-v3, also v4]"),
    "adamw": ("AdamW", "AdamW, lr 0.001 with a cosine schedule, weight decay 0.05, label smoothing 0.1"),
}
START_FROM = (("scratch", "Scratch (random weights)"), ("current", "Current weights (the model that classifies)"),
              ("pretrained", "Pretrained ImageNet"))
TRAIN_PARTS = (("whole", "Whole network"), ("last", "Last stage(s) + classifier"),
               ("classifier", "Classifier only (fast)"))


def _row(*widgets: QWidget) -> QHBoxLayout:
    """Widgets side by side, left-aligned."""
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    row.addStretch(1)
    return row


def _spin(name: str, lo: int, hi: int, value: int, tip: str = "") -> SpinBox:
    s = SpinBox(objectName=name)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


def _dspin(name: str, lo: float, hi: float, value: float, step: float, decimals: int, tip: str = "") -> DoubleSpinBox:
    s = DoubleSpinBox(objectName=name)
    s.setDecimals(decimals)
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    s.setToolTip(tip)
    return s


def _combo(name: str, items: tuple[tuple[str, str], ...], tip: str) -> ComboBox:
    c = ComboBox(objectName=name)
    for key, label in items:
        c.addItem(label, key)
    c.setToolTip(tip)
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    c.setMinimumContentsLength(12)
    return c


class RecipeForm(QWidget):
    """Start-from / what trains / small model / recipe / runtime settings; ``changed`` fires on any edit.

    ``autoWanted`` asks the panel for the auto recipe (the form cannot see the data); the panel answers
    with ``show_auto``. ``findLr`` is the learning-rate finder button.
    """

    changed = Signal()
    autoWanted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._base = recipe_defaults("adamw")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._model_group())
        lay.addWidget(self._recipe_group())
        lay.addWidget(self._runtime_group())
        self._connect()
        self.small.setChecked(True)
        self._device_policy()
        self._part_policy()
        self.set_recipe("auto")

    # ---- layout --------------------------------------------------------------------------------
    def _model_group(self) -> QGroupBox:
        self.init = _combo("initCombo", START_FROM,
                           "Where the weights start: random; the model that classifies now (trained, loaded or "
                           "pretrained; blocks whose shape still fits keep their weights); or ImageNet weights")
        self.part = _combo("trainPartCombo", TRAIN_PARTS,
                           "What trains. Classifier only computes the frozen network's features once and trains "
                           "the last layer in seconds (start from pretrained or trained weights)")
        self.stages = _spin("trainStagesSpin", 1, 20, 1, "How many of the last stages train with the classifier")
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
        box = QGroupBox("Model")
        f = QFormLayout(box)
        f.addRow("Start from", self.init)
        f.addRow("Train", _row(self.part, self.stages))
        f.addRow(self.small)
        f.addRow(sizing)
        f.addRow(self.estimate)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box

    def _recipe_group(self) -> QGroupBox:
        self.recipe = ComboBox(objectName="recipeCombo")
        for key, (label, tip) in RECIPE_LABELS.items():
            self.recipe.addItem(label, key)
            self.recipe.setItemData(self.recipe.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.recipe.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.recipe.setMinimumContentsLength(12)
        self.recipe_note = QLabel("", objectName="recipeNote")
        self.recipe_note.setWordWrap(True)
        self.recipe_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.optimizer = ComboBox(objectName="optimizerCombo")
        self.optimizer.addItems(["sgd", "rmsprop", "adamw"])
        self.schedule = ComboBox(objectName="scheduleCombo")
        self.schedule.addItems(["onecycle", "step", "cosine", "constant"])
        self.schedule.setToolTip("onecycle: warm up, then anneal (fast.ai); step: the papers' decay; cosine; constant")
        self.lr = _dspin("lrSpin", 1e-6, 10.0, 0.01, 0.001, 6, "Learning rate (the peak of a one-cycle schedule)")
        self.find_lr = QPushButton("Find…", objectName="lrFindButton")
        self.find_lr.setToolTip("Run the learning-rate finder: a short run with a growing learning rate; the "
                                "suggested rate is marked on the curve and applied here")
        self.epochs = _spin("epochsSpin", 1, 10000, 10)
        self.batch = _spin("batchSpin", 1, 4096, 32)
        self.smoothing = _dspin("smoothingSpin", 0.0, 0.5, 0.0, 0.05, 2, "Label smoothing (0.1 in Inception-v3)")
        self.aux_weight = _dspin("auxWeightSpin", -0.05, 2.0, -0.05, 0.05, 2,
                                 "Weight of each aux head's loss (spec default: 0.3 GoogLeNet, 0.4 v3)")
        self.aux_weight.setSpecialValueText("spec default")
        self.clip = _dspin("clipSpin", 0.0, 100.0, 0.0, 0.5, 1, "Gradient-norm clipping (2.0 in Inception-v3)")
        self.clip.setSpecialValueText("off")
        self.crop = QCheckBox("random crop ≥", objectName="augmentCrop")
        self.crop_min = _dspin("cropMinSpin", 0.05, 1.0, 0.5, 0.05, 2, "The smallest crop, as a share of the image "
                               "(the papers: 0.08, which can cut a small image's object away)")
        self.flip = QCheckBox("flip", objectName="augmentFlip")
        self.flip.setToolTip("Mirror images at random: right for photos, wrong for digits, letters, arrows")
        self.jitter = QCheckBox("colour jitter", objectName="augmentJitter")
        aug = QGridLayout()  # two rows: the panel stays narrow enough for a side dock
        aug.addLayout(_row(self.crop, self.crop_min), 0, 0, 1, 2)
        aug.addWidget(self.flip, 1, 0)
        aug.addWidget(self.jitter, 1, 1)
        box = QGroupBox("Recipe")
        f = QFormLayout(box)
        f.addRow("Recipe", self.recipe)
        f.addRow(self.recipe_note)
        f.addRow("Optimizer", _row(self.optimizer, self.schedule))
        f.addRow("Learning rate", _row(self.lr, self.find_lr))
        f.addRow("Epochs", _row(self.epochs, QLabel("batch"), self.batch))
        f.addRow("Label smoothing", self.smoothing)
        f.addRow("Aux loss weight", self.aux_weight)
        f.addRow("Gradient clip", self.clip)
        f.addRow("Augment", aug)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box

    def _runtime_group(self) -> QGroupBox:
        self.device = ComboBox(objectName="deviceCombo")
        for d in list_devices():
            self.device.addItem(d.label, d.id)
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device.setMinimumContentsLength(12)
        self.amp = QCheckBox("mixed precision", objectName="ampCheck")
        self.amp.setToolTip("bfloat16/float16 arithmetic where the device has it (a GPU): faster, less memory")
        self.channels_last = QCheckBox("channels-last", objectName="channelsLastCheck")
        self.channels_last.setToolTip("Keep activations in NHWC order: on a CUDA GPU and on the CPU the "
                                      "convolutions run faster so (1.04-1.5x per training step on the CPU)")
        self.seed = _spin("seedSpin", 0, 2**31 - 1, 0, "Random seed (weights, split, shuffling)")
        box = QGroupBox("Runtime")
        f = QFormLayout(box)
        f.addRow("Device", self.device)
        f.addRow("Speed", _row(self.amp, self.channels_last))
        f.addRow("Seed", self.seed)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box

    def _connect(self) -> None:
        self.recipe.currentIndexChanged.connect(lambda _i: self.set_recipe(self.recipe.currentData()))
        self.device.currentIndexChanged.connect(lambda _i: self._device_policy())
        self.small.toggled.connect(self._small_policy)
        self.part.currentIndexChanged.connect(lambda _i: self._part_policy())
        self.crop.toggled.connect(self.crop_min.setEnabled)
        for w in (self.init, self.part, self.optimizer, self.schedule, self.device):
            w.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for w in (self.width, self.size, self.lr, self.epochs, self.batch, self.smoothing, self.aux_weight,
                  self.clip, self.seed, self.stages, self.crop_min):
            w.valueChanged.connect(lambda _v: self.changed.emit())
        for w in (self.small, self.crop, self.flip, self.jitter, self.amp, self.channels_last):
            w.toggled.connect(lambda _b: self.changed.emit())
        # Sizing and the device change what the auto recipe chooses.
        for w in (self.width, self.size):
            w.valueChanged.connect(lambda _v: self._auto_again())
        self.small.toggled.connect(lambda _b: self._auto_again())
        self.device.currentIndexChanged.connect(lambda _i: self._auto_again())

    # ---- policies ------------------------------------------------------------------------------
    def _small_policy(self, on: bool) -> None:
        self.width.setEnabled(on)
        self.size.setEnabled(on)

    def _part_policy(self) -> None:
        self.stages.setVisible(self.part.currentData() == "last")

    def _device_policy(self) -> None:
        """Mixed precision and channels-last where the chosen device gains from them (engine.device's rules)."""
        device = self.device.currentData() or "cpu"
        amp, nhwc = autocast_dtype(device) is not None, use_channels_last(device)
        self.amp.setEnabled(amp)
        self.channels_last.setEnabled(nhwc)
        self.amp.setChecked(amp)
        self.channels_last.setChecked(nhwc)

    def _auto_again(self) -> None:
        if self.recipe.currentData() == "auto":
            self.autoWanted.emit()

    def set_spec_defaults(self, small_size: int) -> None:
        """A new variant: a small input it accepts; the recipe is chosen again."""
        self.size.setMinimum(16)
        self.size.setValue(small_size)
        self.set_recipe(self.recipe.currentData() or "auto")

    def set_recipe(self, name: str) -> None:
        """Pick recipe ``name``: "auto" asks the panel (``autoWanted``), a paper's name fills in its defaults."""
        index = self.recipe.findData(name)
        if index != self.recipe.currentIndex():
            self.recipe.setCurrentIndex(index)  # comes back here through currentIndexChanged
            return
        if name == "auto":
            # Until the data is known: the auto recipe's common ground (AdamW one-cycle), refined on load.
            self.set_config(recipe_defaults("adamw", recipe="auto", schedule="onecycle", lr=5e-3,
                                            crop_scale=(0.5, 1.0), flip=False, epochs=self.epochs.value(),
                                            batch_size=self.batch.value()), sizing=False, runtime=False)
            self.recipe_note.setText("Auto: chosen from your data once it is loaded.")
            self.autoWanted.emit()
            return
        cfg = recipe_defaults(name, epochs=self.epochs.value(), batch_size=self.batch.value())
        self.set_config(cfg, sizing=False, runtime=False)
        self.recipe_note.setText(RECIPE_LABELS[name][1])

    def show_auto(self, cfg: TrainConfig, reason: str) -> None:
        """Show the auto recipe the panel chose (sizing stays the user's) and why."""
        if self.recipe.currentData() != "auto":
            return
        self.set_config(cfg, sizing=False, runtime=False)
        self.recipe_note.setText(f"Auto: {reason}")

    # ---- TrainConfig <-> widgets ---------------------------------------------------------------------
    def sizing(self) -> tuple[float | None, int | None]:
        """(width multiplier, image size) the small-model switch asks for; (None, None) when it is off."""
        if not self.small.isChecked():
            return None, None
        return self.width.value(), self.size.value()

    def config(self, **extra) -> TrainConfig:
        """The form as a TrainConfig (``extra`` fields on top, e.g. out=...)."""
        width, size = self.sizing()
        crop = (self.crop_min.value(), 1.0) if self.crop.isChecked() else (1.0, 1.0)
        cfg = replace(self._base, recipe=self.recipe.currentData(), optimizer=self.optimizer.currentText(),
                      lr=self.lr.value(), schedule=self.schedule.currentText(), epochs=self.epochs.value(),
                      batch_size=self.batch.value(), label_smoothing=self.smoothing.value(),
                      aux_weight=None if self.aux_weight.value() < 0 else self.aux_weight.value(),
                      grad_clip=self.clip.value() or None,
                      augment=self.crop.isChecked() or self.flip.isChecked() or self.jitter.isChecked(),
                      crop_scale=crop, flip=self.flip.isChecked(),
                      color_jitter=(self._base.color_jitter or 0.1) if self.jitter.isChecked() else 0.0,
                      amp=self.amp.isChecked(), channels_last=self.channels_last.isChecked(), seed=self.seed.value(),
                      device=self.device.currentData() or "cpu", width_mult=width, image_size=size,
                      train_part=self.part.currentData(), train_stages=self.stages.value())
        return replace(cfg, **extra) if extra else cfg

    def set_config(self, cfg: TrainConfig, sizing: bool = True, runtime: bool = True) -> None:
        """Show ``cfg`` in the widgets (``sizing``: also the width / image size; ``runtime``: also the seed and
        the speed switches, which a recipe leaves as the user set them)."""
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
            cropped = cfg.augment and tuple(cfg.crop_scale) != (1.0, 1.0)
            self.crop.setChecked(cropped)
            if cropped:
                self.crop_min.setValue(cfg.crop_scale[0])
            self.flip.setChecked(cfg.augment and cfg.flip)
            self.jitter.setChecked(cfg.augment and cfg.color_jitter > 0)
            if runtime:
                self.seed.setValue(cfg.seed)  # the speed switches only where the device has them (_device_policy)
                self.amp.setChecked(cfg.amp and self.amp.isEnabled())
                self.channels_last.setChecked(cfg.channels_last and self.channels_last.isEnabled())
            self.part.setCurrentIndex(max(0, self.part.findData(cfg.train_part)))
            self.stages.setValue(cfg.train_stages)
            if sizing:
                self.small.setChecked(cfg.width_mult is not None or cfg.image_size is not None)
                if cfg.width_mult is not None:
                    self.width.setValue(cfg.width_mult)
                if cfg.image_size is not None:
                    self.size.setValue(cfg.image_size)
        finally:
            self.blockSignals(False)
        self._part_policy()
        self.changed.emit()

"""What the Train panel remembers across restarts: the data it last trained on and the form's settings.

Stored in the app's settings (QSettings) when a run starts and when the window closes; read back when the
panel is made. The data is scanned again only once the panel is first on screen (a folder that has gone
is left out, quietly: the panel then asks for data as on a first start)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from ...engine import train as T
from ..shared.settings import set_value, value
from ..shared.visible import WhenShown

DATA_KEY, CONFIG_KEY = "train/data", "train/config"
log = logging.getLogger(__name__)


def remember(data_source: str | None, cfg: T.TrainConfig) -> None:
    """Keep ``data_source`` ("demo" or a folder; None keeps the last one) and the form's settings ``cfg``."""
    if data_source:
        set_value(DATA_KEY, data_source)
    set_value(CONFIG_KEY, json.dumps(cfg.to_dict()))


def restore(form, data_view) -> WhenShown | None:
    """Fill ``form`` with the remembered settings and have ``data_view`` load the remembered data once it is
    seen; returns the pending load (None when there is nothing to load)."""
    text = value(CONFIG_KEY)
    if isinstance(text, str) and text:
        try:
            cfg = T.TrainConfig.from_dict(json.loads(text))
        except Exception as exc:  # noqa: BLE001 - a setting from another version: the defaults stay
            log.info("remembered training settings not used: %s", exc)
        else:
            form.set_config(cfg)
            if cfg.recipe == "auto":
                form.set_recipe("auto")  # the auto recipe is chosen again for the data, once it is loaded
    source = value(DATA_KEY)
    if not isinstance(source, str) or not (source == "demo" or Path(source).is_dir()):
        return None
    load = WhenShown(data_view, lambda: data_view.load(source, from_memory=True) if data_view.data is None else None)
    load()
    return load

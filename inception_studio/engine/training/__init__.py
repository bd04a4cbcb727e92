"""Training, in small modules: the run's settings (config), its events, the small-data recipe (auto),
learning-health hints (health), data and augmentation previews (data), the model/optimizer set-up
(setup), the loop (loop), checkpoints and resume state (state, checkpoints), the learning-rate
finder (lr_find), classifier-only training on cached features (head_only) and the run log (runlog).

``inception_studio.engine.train`` is the public face that re-exports what callers use; config,
events, auto and health import no torch, so the GUI can use them before torch has loaded.
"""

"""Training (Train workspace): data, recipe, run controls, live plots and the install hook."""

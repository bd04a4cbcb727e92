"""Running a model (Classify workspace): the device bar, image drops and predictions, feature maps,
and the controller that runs the engine for them."""

"""The Train workspace's pens: colour-blind-safe (Okabe-Ito) colours for curves, keys and the confusion matrix."""
BLUE, ORANGE, GREEN, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#999999"

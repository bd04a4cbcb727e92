"""The "Why?" features: the design ideas of the papers for the selected block (Inspector list, Why?
panel), the paired training runs with overlaid curves, and the guided tour (Help -> Tour).
Qt only; the figures come from core.explain, the runs from engine.paired_runs."""

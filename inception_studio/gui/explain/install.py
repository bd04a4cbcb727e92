"""Adds the Why? features to a main window: the Why? panel (Explore workspace, beside the Inspector),
Tools -> Why This Block? (F1) and Train a Pair, Help -> Tour, and the links from the Inspector's idea list."""
from __future__ import annotations

from .cards import open_pair
from .why_view import WhyView


def install(window) -> WhyView:
    """Register the Why? panel and actions on ``window`` (once)."""
    view = WhyView(window.document)
    window.panels.add("why", view, "Why?", "explore")
    view.statsRequested.connect(lambda: window.workspaces.reveal("stats"))
    view.pairRequested.connect(lambda kind: open_pair(window, kind))
    reg = window.action_registry
    reg.add("whyAction", "&Why This Block?", lambda: show_why(window), shortcut="F1", menu="tools",
            tip="The papers' design ideas at work in the selected block, with its exact figures and what-ifs")
    reg.add("tourAction", "&Tour of the Inception Family…", lambda: open_tour(window), menu="help",
            before="aboutAction", tip="NIN to Inception-ResNet-v2, one step each, on the graph")
    reg.add("trainPairAction", "Train a &Pair (Why?)…", lambda: open_pair_for_spec(window), menu="tools",
            tip="Two short runs of the network in view: with and without aux heads, or residual scale 0.2 and 1.0")
    ideas = getattr(window.inspector, "ideas", None)
    if ideas is not None:
        ideas.whyRequested.connect(lambda: show_why(window))
    return view


def show_why(window) -> None:
    """Show the Why? panel (switching to Explore) for the selected block."""
    window.workspaces.reveal("why")
    view = window.panels.widget("why")
    view.refresh()


def open_tour(window, step: int = 0):
    """Open the tour at ``step`` (0: NIN); returns the dialog."""
    from .tour import TourDialog

    old = window.panels.feature("tour")
    if old is not None:
        old.close()
        old.deleteLater()
    dlg = TourDialog(window)
    window.panels.provide("tour", dlg)
    dlg.show()
    dlg.go(step)
    return dlg


def open_pair_for_spec(window):
    """Train → Train a Pair: the pair that applies to the spec in view (aux heads first), or say why none does."""
    spec = window.document.spec
    if spec.aux:
        return open_pair(window, "aux")
    if any(b.kind == "residual" for _s, _i, b in spec.iter_blocks()):
        return open_pair(window, "residual_scale")
    window.statusBar().showMessage(f"{spec.title} has neither aux heads nor residual blocks to compare in a pair of "
                                   "runs", 8000)
    return None

"""Edge routing for graph_layout: which drawn boxes each graph edge joins, the polyline it takes
(a residual block's identity edge runs in a lane beside its branches), and where its tensor-shape
label goes (in a stretch of the edge that no frame border or title crosses). Pure Python, no Qt.
"""
from __future__ import annotations

from itertools import pairwise

from ..core.graph import BlockGraph
from .graph_layout import (
    FRAME_PAD,
    SKIP_LANE,
    TITLE,
    Box,
    Frame,
    Layout,
    Route,
    shape_text,
)


def _entry_exit(box: Box, tb: bool) -> tuple[tuple[float, float], tuple[float, float]]:
    if tb:
        cx = box.x + box.w / 2
        return (cx, box.y), (cx, box.y + box.h)
    cy = box.y + box.h / 2
    return (box.x, cy), (box.x + box.w, cy)


def route_edges(out: Layout, g: BlockGraph, owner: dict[str, str], tb: bool) -> None:
    """Add a Route for every graph edge whose ends are drawn (top-level and inside expanded blocks)."""
    boxes = out.boxes
    frames = {f.id: f for f in out.frames}

    def visible(nid: str, as_src: bool) -> str | None:
        own = owner.get(nid, nid)
        if own in frames and own.startswith("b:"):  # an expanded block: connect to its ports
            own = owner.get(f"{own}/out" if as_src else f"{own}/in")
        return own if own in boxes else None

    def add(src: str, dst: str, shape, skip_label: bool = False, fan: bool = False) -> None:
        s, d = boxes[src], boxes[dst]
        _, p0 = _entry_exit(s, tb)
        p1, _ = _entry_exit(d, tb)
        if dst.startswith("aux:"):  # leave sideways towards the side column
            p0 = (s.x + s.w, s.y + s.h / 2) if tb else (s.x + s.w / 2, s.y + s.h)
            p1 = (d.x, d.y + d.h / 2) if tb else (d.x + d.w / 2, d.y)
        out.routes.append(Route(src, dst, "" if skip_label else shape_text(shape), (p0, p1), fanout=fan))

    seen: set[tuple[str, str]] = set()
    for e in g.edges:
        s, d = visible(e.src, True), visible(e.dst, False)
        if s is None or d is None or s == d or (s, d) in seen:
            continue
        seen.add((s, d))
        add(s, d, e.shape)
    for bid, inner in g.inner.items():
        if bid not in frames:
            continue
        fanout: dict[str, int] = {}
        for e in inner:
            fanout[e.src] = fanout.get(e.src, 0) + 1
        for e in inner:
            src, dst = owner.get(e.src, e.src), owner.get(e.dst, e.dst)
            if src not in boxes or dst not in boxes or src == dst:
                continue
            if e.src.endswith("/in") and e.dst.endswith("/add"):
                # no label: the identity carries the block's input, labelled where it enters
                out.routes.append(_skip(boxes[src], boxes[dst], frames[bid], tb, ""))
                continue
            # A fan-out repeats the shape already written on its source (or its incoming edge).
            fan = fanout[e.src] > 1
            add(src, dst, e.shape, skip_label=fan, fan=fan)


def _skip(src: Box, dst: Box, frame: Frame, tb: bool, label: str) -> Route:
    """The identity edge of a residual block: out of the input port, along the frame's edge, into the add."""
    if tb:
        lane = frame.x + frame.w - SKIP_LANE / 2 - FRAME_PAD / 2
        sx, sy = src.x + src.w, src.y + src.h / 2
        ty = dst.y + dst.h / 2
        pts = ((sx, sy), (lane, sy), (lane, ty), (dst.x + dst.w, ty))
    else:
        lane = frame.y + frame.h - SKIP_LANE / 2 - FRAME_PAD / 2
        sx, sy = src.x + src.w / 2, src.y + src.h
        tx = dst.x + dst.w / 2
        pts = ((sx, sy), (sx, lane), (tx, lane), (tx, dst.y + dst.h))
    return Route(src.id, dst.id, label, pts, skip=True)


def place_labels(out: Layout) -> None:
    """Put each edge label in the middle of the widest stretch of the edge that no frame border
    or title crosses (an edge into a stage would otherwise write over the stage's title)."""
    tb = out.orientation == "TB"
    frames = out.frames
    for i, r in enumerate(out.routes):
        if not r.label:
            continue
        if r.skip:
            (x1, y1), (x2, y2) = r.points[1], r.points[2]
            anchor = ((x1 + x2) / 2, (y1 + y2) / 2)
        else:
            (x0, y0), (x1, y1) = r.points[0], r.points[-1]
            a, b_ = (y0, y1) if tb else (x0, x1)
            straight = abs((x1 - x0) if tb else (y1 - y0)) < 1
            # a curve keeps to its source's column until its bend near the end: look there
            cross = x0 if tb else y0
            cuts = [a, b_]
            for f in frames:
                lo, hi = (f.x, f.x + f.w) if tb else (f.y, f.y + f.h)
                if not lo <= cross <= hi:
                    continue
                start, end = (f.y, f.y + f.h) if tb else (f.x, f.x + f.w)
                for edge in (start, start + TITLE + 2 if tb else start, end):
                    if a < edge < b_:
                        cuts.append(edge)
            cuts.sort()
            gaps = list(pairwise(cuts))
            if straight:  # a straight edge: the middle of its widest free stretch
                gap = max(gaps, key=lambda ab: ab[1] - ab[0])
                mid = (gap[0] + gap[1]) / 2
                anchor = (cross, mid) if tb else (mid, cross)
            else:  # a curve: near its source, where it still runs in the source's column
                gap = next((g for g in gaps if g[1] - g[0] >= 18), gaps[0])
                if tb:
                    anchor = (x0, gap[0] + 9)
                else:
                    anchor = (gap[0] + 3.2 * len(r.label) + 4, y0)
        out.routes[i] = Route(r.src, r.dst, r.label, r.points, r.skip, r.fanout, anchor)

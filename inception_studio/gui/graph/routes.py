"""Edge routing for the graph layout: which drawn boxes each graph edge joins, the polyline it takes
(a residual block's identity edge runs in a lane beside its branches), and where its tensor-shape
label goes (in a stretch of the edge that no frame border or title crosses). Pure Python, no Qt.
"""
from __future__ import annotations

from itertools import pairwise

from ...core.graph import BlockGraph
from .geometry import (
    AUX_TURN,
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


def drawn_end(out: Layout, owner: dict[str, str], nid: str, as_src: bool) -> str | None:
    """The drawn box an edge from (``as_src``) or to graph node ``nid`` attaches to: the node's own box, the
    collapsed block or run holding it, or an expanded block's port; None when nothing of it is drawn."""
    own = owner.get(nid, nid)
    if own not in out.boxes and own.startswith("b:"):  # an expanded block (a frame): connect to its ports
        own = owner.get(f"{own}/out" if as_src else f"{own}/in")
    return own if own in out.boxes else None


def aux_turn(box: Box, tb: bool) -> float:
    """Where an aux head's edge turns towards the side column, along the main axis: just past its source's
    exit (inside the block's bottom padding, above the next edge's label), so it crosses no node."""
    return (box.y + box.h if tb else box.x + box.w) + AUX_TURN


def _aux_route(s: Box, d: Box, tb: bool) -> tuple[tuple[float, float], ...]:
    """Out of the source's exit, a short step along the main axis, across to the side column, into the aux head."""
    _, (ex, ey) = _entry_exit(s, tb)
    turn = aux_turn(s, tb)
    if tb:
        lane, mid = d.x - AUX_TURN * 2, d.y + d.h / 2
        pts = [(ex, ey), (ex, turn), (lane, turn), (lane, mid), (d.x, mid)]
    else:
        lane, mid = d.y - AUX_TURN * 2, d.x + d.w / 2
        pts = [(ex, ey), (turn, ey), (turn, lane), (mid, lane), (mid, d.y)]
    out = [pts[0]]
    for a, b, c in zip(pts, pts[1:], pts[2:]):  # drop points in the middle of a straight run
        if not (a[0] == b[0] == c[0] or a[1] == b[1] == c[1]):
            out.append(b)
    return tuple(out) + (pts[-1],)


def route_edges(out: Layout, g: BlockGraph, owner: dict[str, str], tb: bool) -> None:
    """Add a Route for every graph edge whose ends are drawn (top-level and inside expanded blocks)."""
    boxes = out.boxes
    frames = {f.id: f for f in out.frames}

    def add(src: str, dst: str, shape, skip_label: bool = False, fan: bool = False) -> None:
        s, d = boxes[src], boxes[dst]
        if dst.startswith("aux:"):  # the block's output shape is written on its main edge already
            out.routes.append(Route(src, dst, "", _aux_route(s, d, tb)))
            return
        _, p0 = _entry_exit(s, tb)
        p1, _ = _entry_exit(d, tb)
        out.routes.append(Route(src, dst, "" if skip_label else shape_text(shape), (p0, p1), fanout=fan))

    seen: set[tuple[str, str]] = set()
    for e in g.edges:
        s, d = drawn_end(out, owner, e.src, True), drawn_end(out, owner, e.dst, False)
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


class _FrameIndex:
    """The frames whose extent along the flow overlaps a stretch, found by buckets of that axis (an edge
    is short: it meets a few frames, not the hundreds of an expanded Inception-ResNet-v2)."""

    SIZE = 256.0

    def __init__(self, frames: list[Frame], tb: bool):
        self._buckets: dict[int, list[int]] = {}
        self._frames = frames
        self._span = [(f.y, f.y + f.h) if tb else (f.x, f.x + f.w) for f in frames]
        for k, (start, end) in enumerate(self._span):
            for b in range(int(start // self.SIZE), int(end // self.SIZE) + 1):
                self._buckets.setdefault(b, []).append(k)

    def __call__(self, a: float, b: float) -> list[Frame]:
        """Frames (in layout order) that reach into the open stretch (a, b): only they can cut it."""
        lo, hi = min(a, b), max(a, b)
        ks: set[int] = set()
        for bucket in range(int(lo // self.SIZE), int(hi // self.SIZE) + 1):
            ks.update(self._buckets.get(bucket, ()))
        return [self._frames[k] for k in sorted(ks) if self._span[k][0] < hi and self._span[k][1] > lo]


def place_labels(out: Layout) -> None:
    """Put each edge label in the middle of the widest stretch of the edge that no frame border
    or title crosses (an edge into a stage would otherwise write over the stage's title)."""
    tb = out.orientation == "TB"
    near = _FrameIndex(out.frames, tb)
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
            for f in near(a, b_):
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

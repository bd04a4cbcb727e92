"""Pure-Python layout of a BlockGraph for drawing: node boxes, group frames and edge routes.

No Qt here, so the layout is testable and cheap. The graph is series-parallel by construction
(a chain of blocks; a block is parallel branches between an input and a concat; a branch is a
chain of ops, maybe ending in parallel fork tails), so a recursive "stack along the main axis /
place side by side across it" layout gives a clean layered drawing without a general Sugiyama pass.

What is drawn depends on an *expanded set* of keys: a block id (``b:<name>``) opens the block to its
branches and ops; a run key (``run:b:<first block>``) unfolds a run of identical blocks that is
otherwise drawn as one node marked xN. Orientation is ``"TB"`` (top to bottom) or ``"LR"``.
"""
from __future__ import annotations

from ...core.graph import BlockGraph, Node
from .geometry import (  # noqa: F401 - re-exported: the layout's public types
    MAIN_GAP,
    MAIN_GAP_LR,
    CROSS_GAP,
    TOP_GAP,
    FRAME_PAD,
    TITLE,
    SKIP_LANE,
    ORIENTATIONS,
    Box,
    Frame,
    Route,
    Layout,
    shape_text,
)
from .routes import aux_turn, drawn_end, place_labels, route_edges


def block_kind_word(n: Node) -> str:
    """What a block node is, in a word: its role for plain chains, else inception/residual."""
    return (n.detail or "seq") if n.kind == "seq" else n.kind


def run_key(block_id: str) -> str:
    """The expanded-set key of the run that starts with ``block_id``."""
    return f"run:{block_id}"


def run_keys(graph: BlockGraph) -> dict[str, str]:
    """Block id -> run key, for blocks in runs of two or more identical blocks."""
    out: dict[str, str] = {}
    for _stage, ids in graph.runs:
        if len(ids) > 1:
            for b in ids:
                out[b] = run_key(ids[0])
    return out


def all_expandable(graph: BlockGraph) -> set[str]:
    """Every key that can be expanded (all blocks and runs): the 'expand all' set."""
    keys = {n.id for n in graph.nodes.values() if n.kind in ("seq", "inception", "residual")}
    return keys | set(run_keys(graph).values())


def reveal_keys(graph: BlockGraph, node_id: str) -> set[str]:
    """The keys to expand so that ``node_id`` is drawn as itself."""
    keys: set[str] = set()
    block = graph.block_of(node_id)
    if block is None:
        return keys
    run = run_keys(graph).get(block)
    if run:
        keys.add(run)
    if node_id != block:
        keys.add(block)
    return keys


# ---- tiles: relative layouts in (main, cross) coordinates ---------------------------------------

class _Tile:
    """A laid-out subtree: extent along the main/cross axes and relative items."""

    __slots__ = ("boxes", "cross", "frames", "main")

    def __init__(self, main: float, cross: float):
        self.main, self.cross = main, cross
        self.boxes: list[tuple[str, float, float]] = []  # id, main offset, cross offset
        self.frames: list[tuple[str, str, str, float, float, float, float, int]] = []

    def add(self, other: _Tile, dm: float, dc: float) -> None:
        self.boxes.extend((i, m + dm, c + dc) for i, m, c in other.boxes)
        self.frames.extend((i, k, lab, m + dm, c + dc, ms, cs, d) for i, k, lab, m, c, ms, cs, d in other.frames)


def approx_width(text: str, bold: bool) -> float:
    """Width of ``text`` in a ~9 pt UI font, estimated without Qt (the view passes real metrics)."""
    return len(text) * (7.4 if bold else 5.9)


class _Builder:
    def __init__(self, graph: BlockGraph, expanded: frozenset[str], orientation: str, measure=approx_width,
                 memo: dict | None = None):
        if orientation not in ORIENTATIONS:
            raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
        self.g, self.exp, self.tb = graph, expanded, orientation == "TB"
        self.measure = measure
        self.memo = memo
        self.sizes: dict[str, tuple[float, float]] = {}  # id -> (w, h) in screen terms
        self.meta: dict[str, tuple[str, str, str, int, bool, tuple[str, ...]]] = {}
        self.owner: dict[str, str] = {}
        self.skip_blocks: list[str] = []

    # sizes are (w, h) on screen; the tile works in (main, cross)
    def _mc(self, w: float, h: float) -> tuple[float, float]:
        return (h, w) if self.tb else (w, h)

    def leaf(self, box_id: str, kind: str, label: str, sub: str, count: int = 1, expandable: bool = False,
             members: tuple[str, ...] = ()) -> _Tile:
        if kind == "port":
            w = h = 10.0
        elif kind in ("concat", "add"):
            w = h = 28.0
        else:
            big = expandable or kind in ("run", "input", "head", "aux")
            text = max(self.measure(label + (f"  ×{count}" if count > 1 else ""), True), self.measure(sub, False))
            w = max(160.0 if big else 120.0, text + (38.0 if expandable else 20.0))
            h = 46.0 if big else 36.0
        self.sizes[box_id] = (w, h)
        self.meta[box_id] = (kind, label, sub, count, expandable, members)
        m, c = self._mc(w, h)
        t = _Tile(m, c)
        t.boxes.append((box_id, 0.0, 0.0))
        return t

    def seq(self, tiles: list[_Tile], gap: float | None = None) -> _Tile:
        if gap is None:
            gap = MAIN_GAP if self.tb else MAIN_GAP_LR
        cross = max((t.cross for t in tiles), default=0.0)
        main = sum(t.main for t in tiles) + gap * max(0, len(tiles) - 1)
        out = _Tile(main, cross)
        m = 0.0
        for t in tiles:
            out.add(t, m, (cross - t.cross) / 2)
            m += t.main + gap
        return out

    def par(self, tiles: list[_Tile], gap: float = CROSS_GAP) -> _Tile:
        main = max((t.main for t in tiles), default=0.0)
        cross = sum(t.cross for t in tiles) + gap * max(0, len(tiles) - 1)
        out = _Tile(main, cross)
        c = 0.0
        for t in tiles:  # aligned at the start: branches begin together at the fan-out point
            out.add(t, 0.0, c)
            c += t.cross + gap
        return out

    def frame(self, inner: _Tile, fid: str, kind: str, label: str, depth: int, extra_cross: float = 0.0) -> _Tile:
        # The title sits at the top on screen: the main-start in TB, the cross-start in LR.
        ms, cs = (TITLE + FRAME_PAD, FRAME_PAD) if self.tb else (FRAME_PAD, TITLE + FRAME_PAD)
        main, cross = inner.main + ms + FRAME_PAD, inner.cross + cs + FRAME_PAD + extra_cross
        title_w = self.measure(label, False) * 1.1 + 30.0  # the frame is at least as wide as its title
        dm = dc = 0.0
        if self.tb and cross < title_w:
            dc, cross = (title_w - cross) / 2, title_w
        elif not self.tb and main < title_w:
            dm, main = (title_w - main) / 2, title_w
        out = _Tile(main, cross)
        out.add(inner, ms + dm, cs + dc)
        out.frames.append((fid, kind, label, 0.0, 0.0, out.main, out.cross, depth))
        return out

    # ---- graph pieces ----------------------------------------------------------------------
    def node_leaf(self, n: Node, expandable: bool = False) -> _Tile:
        sub = shape_text(n.shape)
        if sub and sub in n.label:  # "input 224x224x3" already says it
            sub = "network input" if n.kind == "input" else ""
        if expandable:
            sub = f"{block_kind_word(n)} · {sub}"
        return self.leaf(n.id, n.kind, n.label, sub, expandable=expandable)

    def block_tile(self, bid: str, depth: int) -> _Tile:
        """A block's tile, laid out again only when its node is a new object (see layout_graph's ``memo``)."""
        if self.memo is None:
            return self._block_tile(bid, depth)
        n = self.g.nodes[bid]
        key = (bid, depth, bid in self.exp, self.tb)
        hit = self.memo.get(key)
        if hit is None or hit[0] is not n:
            kept = self.sizes, self.meta, self.owner, self.skip_blocks
            self.sizes, self.meta, self.owner, self.skip_blocks = {}, {}, {}, []
            try:
                tile = self._block_tile(bid, depth)
                hit = self.memo[key] = (n, tile, self.sizes, self.meta, self.owner, self.skip_blocks)
            finally:
                self.sizes, self.meta, self.owner, self.skip_blocks = kept
        _, tile, sizes, meta, owner, skips = hit
        self.sizes.update(sizes)
        self.meta.update(meta)
        self.owner.update(owner)
        self.skip_blocks.extend(skips)
        return tile

    def _block_tile(self, bid: str, depth: int) -> _Tile:
        n = self.g.nodes[bid]
        if bid not in self.exp:
            for d in self._descendants(bid):
                self.owner[d] = bid
            return self.node_leaf(n, expandable=True)
        self.owner[bid] = bid
        nodes = self.g.nodes
        by_kind: dict[str, list[str]] = {}
        for c in n.children:
            by_kind.setdefault(nodes[c].kind, []).append(c)
        branches = [self.branch_tile(b, depth + 1, framed=n.kind != "seq") for b in by_kind.get("branch", [])]
        for c in n.children:
            self.owner[c] = c
        # Ports are drawn only where they add something: the fan-out point of a multi-branch
        # block. A plain chain connects straight to its first op; every block leaves from its
        # last node (concat, add or op).
        into_out = next(e.src for e in self.g.inner[bid] if e.dst == f"{bid}/out")
        self.owner[f"{bid}/out"] = into_out
        if n.kind == "seq":
            first = nodes[by_kind["branch"][0]].children[0]
            self.owner[f"{bid}/in"] = first
            parts = branches
        else:
            parts = [self.node_leaf(nodes[f"{bid}/in"]), self.par(branches)]
            parts += [self.node_leaf(nodes[c]) for c in n.children if nodes[c].kind in ("concat", "proj", "add")]
        residual = n.kind == "residual"
        if residual:
            self.skip_blocks.append(bid)
        return self.frame(self.seq(parts), bid, "block", f"{n.label} ({n.detail})", depth,
                          extra_cross=SKIP_LANE if residual else 0.0)

    def branch_tile(self, brid: str, depth: int, framed: bool) -> _Tile:
        nodes = self.g.nodes
        chain: list[_Tile] = []
        tails: dict[str, list[_Tile]] = {}
        cat: _Tile | None = None
        for c in nodes[brid].children:
            self.owner[c] = c
            parts = c[len(brid) + 1:].split("/")
            if parts[0] == "cat":
                cat = self.node_leaf(nodes[c])
            elif len(parts) == 2:
                tails.setdefault(parts[0], []).append(self.node_leaf(nodes[c]))
            else:
                chain.append(self.node_leaf(nodes[c]))
        if tails:
            chain.append(self.par([self.seq(t) for t in tails.values()]))
        if cat is not None:
            chain.append(cat)
        tile = self.seq(chain)
        self.owner[brid] = brid
        if not framed:
            return tile
        return self.frame(tile, brid, "branch", nodes[brid].label, depth)

    def _descendants(self, nid: str) -> list[str]:
        out: list[str] = []
        stack = list(self.g.nodes[nid].children)
        while stack:
            c = stack.pop()
            out.append(c)
            stack.extend(self.g.nodes[c].children)
        return out

    def run_tile(self, ids: list[str], depth: int) -> _Tile:
        first, last = self.g.nodes[ids[0]], self.g.nodes[ids[-1]]
        key = run_key(ids[0])
        role = first.detail if first.detail and first.detail not in ("inception", "residual", "seq") else ""
        label = role or f"{first.label}–{last.label}"
        if key not in self.exp:
            for b in ids:
                self.owner[b] = key
                for d in self._descendants(b):
                    self.owner[d] = key
            sub = f"{block_kind_word(first)} · {shape_text(last.shape)}"
            return self.leaf(key, "run", label, sub, count=len(ids), expandable=True, members=tuple(ids))
        inner = self.seq([self.block_tile(b, depth + 1) for b in ids])
        return self.frame(inner, key, "run", f"{label} ×{len(ids)}", depth)

    def stage_tile(self, sid: str, runs: list[list[str]]) -> _Tile:
        items = [self.run_tile(ids, 1) if len(ids) > 1 else self.block_tile(ids[0], 1) for ids in runs]
        n = self.g.nodes[sid]
        self.owner[sid] = sid
        return self.frame(self.seq(items), sid, "stage", n.label, 0)


def layout_graph(graph: BlockGraph, expanded: frozenset[str] | set[str] = frozenset(), orientation: str = "TB",
                 measure=approx_width, memo: dict | None = None) -> Layout:
    """Lay out ``graph`` with the given expanded keys; returns boxes, frames and routes in scene units.

    ``measure(text, bold) -> width`` sizes the boxes to their text (default: an estimate). ``memo``, a dict the
    caller keeps between layouts made with the same ``measure``, remembers each block's tile: core.graph makes
    a block's nodes (the block's and all inside it) together, and keeps them the same objects while the block is
    unchanged, so a block whose node is the same object is not laid out again (an edit of one stage lays out
    only the blocks it changed).
    """
    b = _Builder(graph, frozenset(expanded), orientation, measure, memo)
    g = graph
    runs_by_stage: dict[str, list[list[str]]] = {}
    for stage, ids in g.runs:
        runs_by_stage.setdefault(stage, []).append(ids)
    chain = [b.node_leaf(g.nodes["input"])]
    b.owner["input"] = "input"
    for n in g.nodes.values():
        if n.kind == "stage" and runs_by_stage.get(n.id[2:]):
            chain.append(b.stage_tile(n.id, runs_by_stage[n.id[2:]]))
        elif n.kind == "stage":
            b.owner[n.id] = n.id  # an empty stage (count 0): nothing to draw
    chain.append(b.node_leaf(g.nodes["head"]))
    b.owner["head"] = "head"
    main = b.seq(chain, TOP_GAP if b.tb else TOP_GAP + MAIN_GAP_LR - MAIN_GAP)
    out = Layout(orientation)
    margin = 20.0

    def to_xy(m: float, c: float, ms: float, cs: float) -> tuple[float, float, float, float]:
        return (c + margin, m + margin, cs, ms) if b.tb else (m + margin, c + margin, ms, cs)

    for bid, m, c in main.boxes:
        w, h = b.sizes[bid]
        ms, cs = b._mc(w, h)
        x, y, _, _ = to_xy(m, c, ms, cs)
        kind, label, sub, count, expandable, members = b.meta[bid]
        out.boxes[bid] = Box(bid, kind, label, sub, x, y, w, h, count, expandable, members)
    for fid, kind, label, m, c, ms, cs, depth in main.frames:
        x, y, w, h = to_xy(m, c, ms, cs)
        out.frames.append(Frame(fid, kind, label, x, y, w, h, depth))
    out.frames.sort(key=lambda f: f.depth)
    out.owner = b.owner
    _place_aux(out, b, graph, main.cross + margin + 60.0)
    route_edges(out, g, b.owner, b.tb)
    place_labels(out)
    xs = [bx.x + bx.w for bx in out.boxes.values()] + [f.x + f.w for f in out.frames]
    ys = [bx.y + bx.h for bx in out.boxes.values()] + [f.y + f.h for f in out.frames]
    out.width, out.height = max(xs) + margin, max(ys) + margin
    return out


def _place_aux(out: Layout, b: _Builder, g: BlockGraph, side: float) -> None:
    """Aux heads in a side column (right in TB, below in LR), each level with the block it reads from, its
    edge turning out just past that block's exit (see routes.aux_turn)."""
    last_end = -1e9
    for aid in (i for i in g.order if i.startswith("aux:")):
        src = next(e.src for e in g.edges if e.dst == aid)
        b.node_leaf(g.nodes[aid])
        b.owner[aid] = aid
        w, h = b.sizes[aid]
        exit_box = out.boxes.get(drawn_end(out, b.owner, src, True) or "")
        turn = aux_turn(exit_box, b.tb) if exit_box is not None else 0.0
        length = h if b.tb else w
        start = max(turn - length / 2, last_end + CROSS_GAP)
        last_end = start + length
        x, y = (side, start) if b.tb else (start, side)
        kind, label, sub, _count, _expandable, _members = b.meta[aid]
        out.boxes[aid] = Box(aid, kind, label, sub, x, y, w, h)

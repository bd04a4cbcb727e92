"""The block graph, built from the spec (not traced from a module): stages -> blocks -> branches -> ops.

Node ids are stable across edits that don't touch the node, because they come from block names
(which edits keep) and branch/op positions: ``b:<block>``, ``b:<block>/br<j>``, ``b:<block>/br<j>/<k>``,
``b:<block>/br<j>/f<f>/<k>``, ``b:<block>/concat``, ``b:<block>/proj``, ``b:<block>/add``, plus
``input``, ``head`` and ``aux:<name>``; stages are ``s:<stage>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .trace import BlockInfo, Shape, trace
from .spec import ArchSpec


@dataclass(frozen=True)
class Node:
    """One node of the graph."""

    id: str
    label: str
    kind: str  # input, stage, block (seq|inception|residual), branch, op kinds, concat, proj, add, head, aux
    parent: str | None
    shape: Shape | None = None
    params: int = 0
    macs: int = 0
    detail: str = ""
    module: str | None = None  # dotted module path in the built model (for hooks)
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """A tensor flowing from ``src`` to ``dst`` (its shape, C x H x W)."""

    src: str
    dst: str
    shape: Shape | None = None


@dataclass
class BlockGraph:
    """Nodes by id, the top-level chain, and each block's inner edges."""

    spec: ArchSpec
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)  # between top-level nodes (input, blocks, head, aux)
    inner: dict[str, list[Edge]] = field(default_factory=dict)  # block id -> edges among its descendants
    order: list[str] = field(default_factory=list)  # top-level node ids in forward order
    runs: list[tuple[str, list[str]]] = field(default_factory=list)  # (stage, run of identical consecutive block ids)

    def children(self, node_id: str) -> tuple[str, ...]:
        """Direct children of a node."""
        return self.nodes[node_id].children

    def block_of(self, node_id: str) -> str | None:
        """The block id a node belongs to (itself for a block)."""
        if node_id.startswith("b:"):
            return node_id.split("/")[0]
        return None

    def module_node(self, node_id: str) -> Node | None:
        """The node whose module's output is what ``node_id`` shows: the node itself when it has a module; for a
        node inside a block without one (a concat, the out port) the block; None for the block's in port (its
        input is no output of this block), unknown ids and nodes outside blocks without a module."""
        node = self.nodes.get(node_id)
        if node is None or node.module:
            return node
        block = self.block_of(node_id)
        if block is None or node_id == f"{block}/in":
            return None
        return self.nodes.get(block)


def _op_label(op) -> str:
    if op.kind == "conv":
        return f"conv {op.kernel_text} {op.out}"
    if op.kind == "sepconv":
        return f"sep conv {op.kernel_text} {op.out}"
    if op.kind in ("maxpool", "avgpool"):
        return f"{op.kind[:3]} pool {op.kernel_text}"
    if op.kind == "dropout":
        return f"dropout {op.rate:g}"
    return op.kind.upper()


def block_module(stage: str, block: str) -> str:
    """Module path of a block in a built model."""
    return f"stages.{stage}.{block}"


def node_of_module(prefix: str) -> str:
    """The graph node id of a module path (the inverse of block_module): stages.<s>.<b> -> b:<b>,
    aux.<a> -> aux:<a>, anything else (head, ...) -> its first part."""
    parts = prefix.split(".")
    if parts[0] == "stages" and len(parts) >= 3:
        return f"b:{parts[2]}"
    if parts[0] == "aux" and len(parts) >= 2:
        return f"aux:{parts[1]}"
    return parts[0]


def _add_branch(g: BlockGraph, info: BlockInfo, j: int, ops: list, entry: tuple[str, Shape],
                inner: list[Edge]) -> tuple[str, tuple[str, Shape]]:
    """Branch ``j`` of a block: its op nodes (a forked tail joined by its own concat) and inner edges;
    returns (the branch's id, its last node and shape)."""
    blk, bid = info.block, f"b:{info.block.name}"
    mod = block_module(info.stage.name, blk.name)
    branch = blk.branches[j]
    brid = f"{bid}/br{j}"
    children: list[str] = []
    prev, prev_shape = entry
    fork_ends: list[tuple[str, Shape]] = []
    fork_start: tuple[str, Shape] | None = None
    params = macs = 0
    for o in ops:
        if len(o.path) == 3:
            nid = f"{brid}/{o.path[2]}"
            src, src_shape = prev, prev_shape
            sub = f"{mod}.{o.path[2]}" if blk.kind == "seq" else f"{mod}.branch{j}.{o.path[2]}"
        else:
            f, k = o.path[3], o.path[4]
            nid = f"{brid}/f{f}/{k}"
            if fork_start is None:
                fork_start = (prev, prev_shape)
            src, src_shape = fork_start if k == 0 else (prev, prev_shape)
            sub = f"{mod}.branch{j}.fork{f}.{k}"
        g.nodes[nid] = Node(nid, _op_label(o.op), o.op.kind, brid, o.out_shape, o.params, o.macs,
                            detail=f"{o.op.kernel_text} {o.op.kind}", module=sub)
        children.append(nid)
        inner.append(Edge(src, nid, src_shape))
        params += o.params
        macs += o.macs
        if len(o.path) > 3 and o.path[4] == len(branch.fork[o.path[3]]) - 1:
            fork_ends.append((nid, o.out_shape))
        prev, prev_shape = nid, o.out_shape
    if fork_ends:
        cat = f"{brid}/cat"
        g.nodes[cat] = Node(cat, "concat", "concat", brid, info.branch_shapes[j])
        children.append(cat)
        inner.extend(Edge(n, cat, s) for n, s in fork_ends)
        prev, prev_shape = cat, info.branch_shapes[j]
    label = f"branch {j}" + (f" ({branch.role})" if branch.role else "")
    g.nodes[brid] = Node(brid, label, "branch", bid, info.branch_shapes[j], params, macs,
                         module=mod if blk.kind == "seq" else f"{mod}.branch{j}", children=tuple(children))
    return brid, (prev, prev_shape)


def _add_join(g: BlockGraph, info: BlockInfo, ends: list[tuple[str, Shape]], entry: str,
              inner: list[Edge]) -> tuple[list[str], str]:
    """How a block's branches meet: a concat, and for a residual block the projection and the add;
    returns (the nodes made, the block's last node)."""
    blk, bid = info.block, f"b:{info.block.name}"
    if blk.kind == "seq":
        return [], ends[0][0]
    mod = block_module(info.stage.name, blk.name)
    cat = f"{bid}/concat"
    cat_shape = (sum(s[0] for _, s in ends), ends[0][1][1], ends[0][1][2])
    g.nodes[cat] = Node(cat, "concat", "concat", bid, cat_shape)
    inner.extend(Edge(n, cat, s) for n, s in ends)
    if blk.kind != "residual":
        return [cat], cat
    proj, add = f"{bid}/proj", f"{bid}/add"
    g.nodes[proj] = Node(proj, f"linear 1x1 {info.in_shape[0]}", "proj", bid, info.out_shape,
                         info.proj_params, info.proj_macs, module=f"{mod}.proj")
    g.nodes[add] = Node(add, f"x + {blk.scale:g}·F(x)" + ("" if blk.final_act else " (no ReLU)"), "add", bid,
                        info.out_shape, module=mod)
    inner += [Edge(cat, proj, cat_shape), Edge(proj, add, info.out_shape), Edge(entry, add, info.in_shape)]
    return [cat, proj, add], add


def _add_block(g: BlockGraph, info: BlockInfo, sid: str) -> str:
    """One block's node, its in and out ports, its branches and how they join; returns the block's id."""
    blk = info.block
    bid = f"b:{blk.name}"
    inner: list[Edge] = []
    entry = f"{bid}/in"
    g.nodes[entry] = Node(entry, "in", "port", bid, info.in_shape)
    ops_by_branch: dict[int, list] = {}
    for o in info.ops:
        ops_by_branch.setdefault(o.path[1], []).append(o)
    children = [entry]
    ends: list[tuple[str, Shape]] = []
    for j in range(len(blk.branches)):
        brid, end = _add_branch(g, info, j, ops_by_branch.get(j, []), (entry, info.in_shape), inner)
        children.append(brid)
        ends.append(end)
    joins, out_id = _add_join(g, info, ends, entry, inner)
    children += joins
    g.nodes[bid + "/out"] = Node(bid + "/out", "out", "port", bid, info.out_shape)
    inner.append(Edge(out_id, bid + "/out", info.out_shape))
    g.inner[bid] = inner
    g.nodes[bid] = Node(bid, blk.label, blk.kind, sid, info.out_shape, info.params, info.macs,
                        detail=blk.role or blk.kind, module=block_module(info.stage.name, blk.name),
                        children=tuple(children) + (bid + "/out",))
    return bid


_BLOCKS_KEPT = 2048
_made: dict[tuple, tuple] = {}  # what _add_block made for one traced block (see _block_nodes)


def _block_nodes(g: BlockGraph, info: BlockInfo, sid: str) -> str:
    """:func:`_add_block`, remembered per traced block: the nodes and inner edges of a block that an edit did not
    touch are the same objects in the edited spec's graph (core.trace keeps its ops the same objects too), so
    an edit builds only the blocks it changed, and what is drawn from a block can be kept by the nodes' identity."""
    key = (sid, id(info.block), id(info.ops), info.in_shape, info.out_shape, info.branch_shapes, info.proj_params,
           info.proj_macs)
    hit = _made.get(key)
    if hit is not None and hit[0] is info.block and hit[1] is info.ops:
        _, _, bid, nodes, inner = hit
    else:
        part = BlockGraph(g.spec)
        bid = _add_block(part, info, sid)
        nodes, inner = tuple(part.nodes.items()), tuple(part.inner[bid])
        if len(_made) >= _BLOCKS_KEPT:
            _made.clear()
        _made[key] = (info.block, info.ops, bid, nodes, inner)
    g.nodes.update(nodes)
    g.inner[bid] = list(inner)
    return bid


def build_graph(spec: ArchSpec, input_size: int | None = None) -> BlockGraph:
    """The hierarchical block graph of ``spec`` with shapes and costs at ``input_size``."""
    t = trace(spec, input_size)
    g = BlockGraph(spec)
    size = t.input_size
    g.nodes["input"] = Node("input", f"input {size}x{size}x{spec.in_channels}", "input", None,
                            (spec.in_channels, size, size))
    g.order.append("input")
    prev, prev_shape = "input", (spec.in_channels, size, size)
    by_stage: dict[str, list[str]] = {s.name: [] for s in spec.stages}
    for info in t.blocks:
        sid = f"s:{info.stage.name}"
        bid = _block_nodes(g, info, sid)
        by_stage[info.stage.name].append(bid)
        g.edges.append(Edge(prev, bid, prev_shape))
        g.order.append(bid)
        prev, prev_shape = bid, info.out_shape
    for s in spec.stages:
        sp = sum(g.nodes[b].params for b in by_stage[s.name])
        sm = sum(g.nodes[b].macs for b in by_stage[s.name])
        g.nodes[f"s:{s.name}"] = Node(f"s:{s.name}", s.label, "stage", None, None, sp, sm,
                                      detail=f"{s.count} block(s)", module=f"stages.{s.name}",
                                      children=tuple(by_stage[s.name]))
        run: list[str] = []
        last: tuple | None = None
        for blk in s.blocks:
            key = blk.structure
            if run and key == last:
                run.append(f"b:{blk.name}")
            else:
                if run:
                    g.runs.append((s.name, run))
                run = [f"b:{blk.name}"]
            last = key
        if run:
            g.runs.append((s.name, run))
    head = "head"
    g.nodes[head] = Node(head, f"avg pool + {'1x1 conv' if spec.head.kind == 'conv' else 'linear'} {spec.num_classes}",
                         "head", None, (spec.num_classes, 1, 1), t.head_params, t.head_macs,
                         detail=f"dropout {spec.head.dropout:g}", module="head")
    g.edges.append(Edge(prev, head, prev_shape))
    g.order.append(head)
    for a in t.aux:
        aid = f"aux:{a.aux.name}"
        src = f"b:{spec.stage(a.aux.stage).blocks[a.aux.index].name}"
        g.nodes[aid] = Node(aid, f"aux {a.aux.name}", "aux", None, (spec.num_classes, 1, 1), a.params, a.macs,
                            detail=f"loss weight {a.aux.loss_weight:g}", module=f"aux.{a.aux.name}")
        g.edges.append(Edge(src, aid, a.in_shape))
        g.order.append(aid)
    return g

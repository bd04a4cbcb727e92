"""``inception-studio explain``: the papers' design ideas as exact what-ifs for one block or the network.

Without ``--block`` it prints the network-level lessons and, for each block, the ideas that apply;
with ``--block LABEL`` the block's ideas with their figures and the edits that apply them
(``--set`` paths where one exists). ``--json`` prints :meth:`Explanation.to_dict`.
"""
from __future__ import annotations

import json
import textwrap

from ..core import edits
from ..core.analysis import format_shape
from ..core.explain import Explanation, Idea, explain


def register(subparsers) -> None:
    """Add the ``explain`` subcommand."""
    p = subparsers.add_parser("explain", help="why a block looks the way it does: the papers' ideas as exact what-ifs",
                              description="The design ideas of the Inception papers with this network's figures.")
    p.add_argument("spec", metavar="VARIANT|SPEC.json")
    p.add_argument("--block", metavar="LABEL", help="a block's paper label or name (3a, Mixed_6a, block35_1)")
    p.add_argument("--input-size", type=int, default=None)
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="apply an edit first (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    """Print the explanation of a block (or of the network with its per-block index)."""
    from ..cli import load_spec_arg

    spec = edits.apply_edits(load_spec_arg(args.spec), args.set or [])
    ex = explain(spec, args.block, args.input_size)
    if args.json:
        data = ex.to_dict()
        if not args.block:
            data["blocks"] = block_index(spec, args.input_size)
        print(json.dumps(data, indent=1))
        return 0
    print("\n".join(format_explanation(ex)))
    if not args.block:
        print("\nIdeas per block (explain --block LABEL for the figures):")
        for row in block_index(spec, args.input_size):
            if row["ideas"]:
                print(f"  {row['label']:24} {', '.join(row['ideas'])}")
    return 0


def block_index(spec, input_size: int | None) -> list[dict]:
    """Each block's label, name and the keys of the ideas that apply to it."""
    rows = []
    for _stage, _i, b in spec.iter_blocks():
        ex = explain(spec, b.name, input_size)
        rows.append({"label": b.label, "name": b.name, "ideas": [i.key for i in ex.ideas]})
    return rows


def format_explanation(ex: Explanation) -> list[str]:
    """The explanation as text lines."""
    if ex.block:
        head = (f"{ex.label} of {ex.spec_name} at {ex.input_size} px: {format_shape(ex.in_shape)} -> "
                f"{format_shape(ex.out_shape)}, {ex.params:,} params, {ex.macs:,} multiply-adds")
    else:
        head = f"{ex.label} at {ex.input_size} px: {ex.params:,} params, {ex.macs:,} multiply-adds"
    lines = [head]
    if not ex.ideas:
        lines.append("  (none of the papers' ideas applies to this block)")
    for idea in ex.ideas:
        lines += [""] + format_idea(idea)
    return lines


def format_idea(idea: Idea) -> list[str]:
    """One idea: title, paper, summary, figures, comparison rows, edits."""
    out = [f"{idea.title}  [{idea.paper}]"]
    out += textwrap.wrap(idea.summary, 100, initial_indent="  ", subsequent_indent="  ")
    for f in idea.figures:
        out.append(f"  {f.label:52} {f.text():>20}")
    if idea.rows:
        out.append(f"  {'':72} {'params':>12} {'multiply-adds':>15}")
        for r in idea.rows:
            label = ("* " if r.current else "  ") + r.label
            width = f"  -> {r.width} ch" if r.width is not None else ""
            out.append(f"  {label[:72]:72} {r.params:>12,} {r.macs:>15,}{width}")
    for a in idea.applies:
        how = f"--set {a.path}" if a.path else f"python: edits.{a.edit}(spec, {', '.join(map(repr, a.args))})"
        out.append(f"  apply: {a.text}   [{how}]")
    if idea.train_pair:
        out.append(f"  train pair: engine.paired_runs.paired_runs(spec, '{idea.train_pair}') "
                   "(the app's Why? view runs it and overlays the curves)")
    return out

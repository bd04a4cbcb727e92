"""Command line: ``inception-studio [variants|summary|import-weights|export-onnx|predict|train] ...``.

With no arguments it opens the GUI. Every error is one line on stderr and exit status 2; an unexpected
one (not a StudioError) is logged with its traceback, and its line names the log file. ``--verbose``
(before or after the command) shows the log on stderr too.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from importlib import import_module
from pathlib import Path

from .core import edits
from .core.analysis import PAPER_COLUMNS, analyze, format_shape, human
from .core.presets import get_spec, list_variants
from .core.sources import SOURCES
from .core.spec import ArchSpec, read_spec_file
from .errors import StudioError
from .logs import log_unexpected
from .logs import setup as setup_logging

# Subcommands that live in inception_studio/commands/<name>.py, each with register(subparsers).
COMMAND_MODULES = ("predict", "train", "explain")
VERBOSE_HELP = "show the log (DEBUG) on stderr as well as in the log file"
log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise SystemExit(_fail(f"{self.prog}: {message}"))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def load_spec_arg(text: str) -> ArchSpec:
    """A variant name, a spec .json file, or a checkpoint's spec."""
    p = Path(text)
    if p.suffix == ".json":
        return read_spec_file(p)
    if p.suffix in (".safetensors", ".ckpt") or p.is_file():
        from .core.weights import load_checkpoint
        return load_checkpoint(p).spec
    return get_spec(text)


# ---- variants ------------------------------------------------------------------------------

def cmd_variants(args) -> int:
    rows = []
    for name in list_variants():
        spec = get_spec(name)
        s = analyze(spec)
        rows.append({"name": name, "title": spec.title, "description": spec.description, "input_size": spec.input_size,
                     "params": s.params_main, "macs": s.macs, "top1_error": spec.top1_error, "top5_error": spec.top5_error,
                     "weights": spec.weights_source or None})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'variant':27} {'input':>5} {'params':>9} {'MACs':>8} {'top-1/top-5 err':>16}  description")
    for r in rows:
        err = f"{r['top1_error'] or '-'}/{r['top5_error'] or '-'}"
        print(f"{r['name']:27} {r['input_size']:>5} {human(r['params']):>9} {human(r['macs']):>8} {err:>16}  {r['description']}")
    return 0


# ---- summary -------------------------------------------------------------------------------

def summary_dict(spec: ArchSpec, size: int | None) -> dict:
    """The summary as plain data (what ``--json`` prints)."""
    s = analyze(spec, size)
    return {
        "variant": spec.name, "title": spec.title, "input_size": s.input_size,
        "params": s.params, "params_without_aux": s.params_main, "macs": s.macs,
        "aux_params": s.aux_params, "aux_macs": s.aux_macs,
        "memory_inference_bytes": s.memory_bytes(1), "memory_training_bytes_batch32": s.memory_bytes(32, training=True),
        "stages": [{"name": st.name, "label": st.label, "count": st.count, "params": st.params, "macs": st.macs}
                   for st in s.stages],
        "rows": [{"name": r.name, "label": r.label, "stage": r.stage, "kind": r.kind, "patch": r.patch,
                  "output": list(r.output), "depth": r.depth, "params": r.params, "macs": r.macs, "columns": r.columns}
                 for r in s.rows],
    }


def cmd_summary(args) -> int:
    spec = edits.apply_edits(load_spec_arg(args.spec), args.set or [])
    data = summary_dict(spec, args.input_size)
    if args.json:
        print(json.dumps(data, indent=1))
        return 0
    cols = [c for c in PAPER_COLUMNS]
    extra = sorted({k for r in data["rows"] for k in r["columns"]} - set(cols))
    cols += extra
    head = f"{'block':18} {'kind':10} {'patch':7} {'output':>13} {'depth':>5} " + " ".join(f"{c:>11}" for c in cols) + f" {'params':>9} {'ops':>8}"
    print(f"{spec.title} at {data['input_size']} px")
    print(head)
    for r in data["rows"]:
        c, h, w = r["output"]
        vals = " ".join(f"{r['columns'].get(k, ''):>11}" for k in cols)
        print(f"{r['label'][:18]:18} {r['kind']:10} {r['patch']:7} {format_shape((c, h, w)):>13} {r['depth']:>5} {vals} "
              f"{human(r['params']):>9} {human(r['macs']):>8}")
    print(f"total: {data['params']:,} params ({data['params_without_aux']:,} without aux heads), "
          f"{data['macs'] / 1e9:.3f} G multiply-adds")
    return 0


# ---- weights -------------------------------------------------------------------------------

def cmd_import_weights(args) -> int:
    from .core.weights import import_reference, read_state_dict, save_checkpoint
    from .engine.classes import imagenet_classes

    sd = read_state_dict(args.weights)
    model = import_reference(args.source, sd, Path(args.weights).name, pretrained_transform=not args.no_transform_input)
    spec = model.spec
    names = imagenet_classes() if spec.num_classes == 1000 else []
    save_checkpoint(args.output, spec, model, names, {"source": args.source, "file": Path(args.weights).name})
    print(f"wrote {args.output}: {spec.name}, {sum(p.numel() for p in model.parameters()):,} params from {args.source}")
    return 0


def _model_for(target: str):
    """(model, spec, origin) for a variant, spec file or checkpoint."""
    from .core.build import build_model
    from .core.weights import load_checkpoint, model_from_checkpoint

    p = Path(target)
    if p.is_file() and p.suffix != ".json":
        ck = load_checkpoint(p)
        return model_from_checkpoint(ck), ck.spec, f"checkpoint {p.name}"
    spec = load_spec_arg(target)
    return build_model(spec), spec, "random init"


def cmd_export_onnx(args) -> int:
    from .core.build import build_model
    from .engine.export import export_onnx

    if args.set:  # an edited spec has no trained weights: build it fresh
        spec = edits.apply_edits(load_spec_arg(args.target), args.set)
        model, origin = build_model(spec), "random init (edited spec)"
    else:
        model, spec, origin = _model_for(args.target)
    if args.input_size:
        spec = edits.set_field(spec, "input_size", args.input_size)
    report = export_onnx(model, spec, args.output, input_size=args.input_size)
    print(f"{report.summary()} [{spec.name}, {origin}]")
    return 0


# ---- entry -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand."""
    p = _Parser(prog="inception-studio", description="Explore, edit, train and run Inception-family CNNs. "
                                                      "With no command, opens the desktop app.")
    p.add_argument("--install-desktop", action="store_true",
                   help="add the app to the desktop's application menu (a .desktop file and icon in ~/.local/share)")
    p.add_argument("--uninstall-desktop", action="store_true", help="remove what --install-desktop added")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    v = sub.add_parser("variants", help="list the presets")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.set_defaults(func=cmd_variants)
    s = sub.add_parser("summary", help="per-block table: shapes, params, multiply-adds")
    s.add_argument("spec", metavar="VARIANT|SPEC.json")
    s.add_argument("--input-size", type=int, default=None)
    s.add_argument("--set", action="append", metavar="PATH=VALUE", help="apply an edit (repeatable; see README)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)
    w = sub.add_parser("import-weights", help="turn a torchvision/timm state dict into our checkpoint")
    w.add_argument("source", choices=list(SOURCES))
    w.add_argument("weights", metavar="WEIGHTS_FILE")
    w.add_argument("-o", "--output", required=True, metavar="CHECKPOINT")
    w.add_argument("--no-transform-input", action="store_true",
                   help="torchvision weights trained without transform_input (keep ImageNet mean/std)")
    w.set_defaults(func=cmd_import_weights)
    e = sub.add_parser("export-onnx", help="export to ONNX, checked with onnx.checker and onnxruntime")
    e.add_argument("target", metavar="VARIANT|SPEC.json|CHECKPOINT")
    e.add_argument("-o", "--output", required=True, metavar="OUT.onnx")
    e.add_argument("--input-size", type=int, default=None)
    e.add_argument("--set", action="append", metavar="PATH=VALUE")
    e.set_defaults(func=cmd_export_onnx)
    for name in COMMAND_MODULES:
        import_module(f"inception_studio.commands.{name}").register(sub)
    p.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    for command in sub.choices.values():  # also after the command: `inception-studio train ... --verbose`
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return p


def opens_app(argv: list[str]) -> bool:
    """Whether the arguments start the desktop app: none, or a preset name or spec .json file first
    (``inception-studio inception_v4``, ``inception-studio my_spec.json``), never a subcommand.
    ``--verbose`` alone or first does not count (``inception-studio -v`` opens the app with the log shown)."""
    argv = argv[1:] if argv[:1] in (["-v"], ["--verbose"]) else argv
    if not argv:
        return True
    first = argv[0]
    return first in list_variants() or (first.lower().endswith(".json") and not first.startswith("-"))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI (or the GUI: no arguments, or a preset or spec file first); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if opens_app(argv):
        from .gui.app import main as gui_main
        return gui_main(argv)
    try:
        args = build_parser().parse_args(argv)
        setup_logging(verbose=args.verbose)
        log.debug("inception-studio %s", " ".join(argv))
        if args.install_desktop or args.uninstall_desktop:
            from .desktop import cli_desktop
            return cli_desktop(uninstall=args.uninstall_desktop)
        if not getattr(args, "func", None):
            return _fail("no command given (try --help)")
        return int(args.func(args) or 0)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else _fail(str(exc.code))
    except StudioError as exc:
        log.info("%s", exc)
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug or the environment: one line here, the traceback in the log
        return _fail(log_unexpected(exc, f"inception-studio {argv[0] if argv else ''}".strip()))


if __name__ == "__main__":
    raise SystemExit(main())

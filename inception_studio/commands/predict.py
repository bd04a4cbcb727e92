"""``inception-studio predict``: classify image files with a checkpoint or a variant, on the shared engine.

Each bad file is reported as one line on stderr and the rest are still classified; the exit status is
0 when at least one image was classified and 2 otherwise. Names from files (class names, file names)
are printed with control characters escaped.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..core.names import printable
from ..errors import StudioError


def register(subparsers) -> None:
    """Add the ``predict`` subcommand."""
    p = subparsers.add_parser("predict", help="classify images: top-k class names and probabilities",
                              description="Classify images with a checkpoint or a variant (random weights "
                                          "unless --pretrained or --weights).")
    p.add_argument("target", metavar="CHECKPOINT|VARIANT|SPEC.json")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    p.add_argument("--topk", type=_positive, default=5, metavar="K", help="how many classes to show (default 5)")
    p.add_argument("--device", default=None, metavar="D", help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--backend", choices=("auto", "torch", "onnxruntime"), default="auto",
                   help="CPU forward pass (default auto: onnxruntime for trained weights, exported once "
                        "and cached; PyTorch for random weights and on GPUs)")
    p.add_argument("--pretrained", action="store_true", help="download the variant's pretrained ImageNet weights")
    p.add_argument("--weights", metavar="FILE", help="a local torchvision/timm weights file for the variant")
    p.add_argument("--batch-size", type=_positive, default=8, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def make_predictor(args):
    """The Predictor the arguments ask for."""
    from ..engine.infer import Predictor
    from ..engine.loading import WeightsChoice

    kw = {"device": args.device, "topk": args.topk, "backend": args.backend}
    if args.pretrained or args.weights:
        from ..core.presets import get_spec, list_variants
        if args.target not in list_variants():
            raise StudioError(f"{args.target}: --pretrained/--weights need a variant name ({', '.join(list_variants())})")
        spec = get_spec(args.target)
        return Predictor(spec, weights=WeightsChoice.pretrained_for(spec, args.weights), **kw)
    return Predictor(args.target, **kw)


def run(args) -> int:
    """Classify every image; one stderr line per bad file; 0 if any image was classified, else 2."""
    from ..engine.infer import expand_sources

    predictor = make_predictor(args)
    if predictor.source_label == "random init" and not args.json:
        print(f"note: {printable(predictor.spec.name)} has random weights; use a checkpoint, --pretrained or --weights",
              file=sys.stderr)
    sources = expand_sources(args.images)
    if not sources:
        print("error: no image files found", file=sys.stderr)
        return 2
    done = 0
    rows = []
    for result in predictor.classify(sources, batch_size=args.batch_size):
        if not result.ok:
            print(f"error: {printable(result.error, None)}", file=sys.stderr)
            rows.append({"file": str(result.source), "error": result.error})
            continue
        done += 1
        if args.json:
            rows.append({"file": str(result.source),
                         "top": [{"class": name, "probability": round(p, 6)} for name, p in result.top]})
        else:
            # Class names come from the checkpoint and file names from the disk: neither may forge a line.
            print(printable(result.source, None))
            for name, p in result.top:
                print(f"  {100 * p:6.2f}%  {printable(name)}")
        sys.stdout.flush()
    if args.json:
        print(json.dumps({"model": predictor.spec.name, "weights": predictor.source_label,
                          "device": str(predictor.device), "results": rows}, indent=1))
    return 0 if done else 2

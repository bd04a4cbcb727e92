"""``inception-studio train``: headless training on the same engine as the GUI (engine.train).

Runs single-process, or under ``torchrun --nproc-per-node N -m inception_studio train ...`` as
DistributedDataParallel (only rank 0 prints progress and writes checkpoints and logs). The first
Ctrl-C stops after the current step and still writes the last checkpoint; a non-finite loss ends
the run with a one-line message and exit status 2.
"""
from __future__ import annotations

import argparse
import math
import signal
import sys
from dataclasses import replace
from typing import Any

from ..errors import StudioError

# Which recipe an --optimizer picks when no --recipe is given.
_RECIPE_OF_OPTIMIZER = {"sgd": "googlenet", "rmsprop": "inception_v3", "adamw": "adamw"}


def register(subparsers) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a variant or spec on an image folder (or the demo data)",
        description="Train on a folder of class subfolders (ImageFolder layout) or 'demo'. Under torchrun it "
                    "runs DistributedDataParallel; only rank 0 writes checkpoints and logs.")
    p.add_argument("--data", required=True, metavar="DIR|demo", help="class-per-subfolder image folder, or demo")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--variant", metavar="V", help="a preset name (see 'variants')")
    src.add_argument("--spec", metavar="S", help="a spec .json file or a checkpoint (its spec)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="edit the spec first (repeatable)")
    p.add_argument("--init", metavar="CKPT", help="start from a checkpoint's weights (fine-tune, new classifier)")
    p.add_argument("--resume", metavar="CKPT", help="continue a run: weights, optimizer state, epoch and step")
    p.add_argument("--out", required=True, metavar="CHECKPOINT",
                   help="the last checkpoint; CHECKPOINT.best and .state files are written beside it")
    p.add_argument("--recipe", choices=("googlenet", "inception_v3", "adamw"),
                   help="the papers' defaults (default: from --optimizer, else the variant's family; "
                        "for --data demo a quick AdamW preset)")
    p.add_argument("--optimizer", choices=("sgd", "rmsprop", "adamw"))
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--lr", type=_positive_float)
    p.add_argument("--schedule", choices=("step", "cosine", "constant"))
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--aux-weight", type=float, help="weight of each aux head's loss (default: the spec's)")
    p.add_argument("--grad-clip", type=_positive_float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--no-augment", action="store_true", help="no random crop / flip / colour jitter")
    p.add_argument("--image-size", type=_positive_int, metavar="S", help="train at S px (aux heads off if too small)")
    p.add_argument("--width-mult", type=_positive_float, metavar="W", help="width multiplier (relative to the preset)")
    p.add_argument("--val-fraction", type=float, default=None)
    p.add_argument("--device", default=None, metavar="D", help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on GPU")
    p.add_argument("--workers", type=int, default=None, help="DataLoader worker processes (default: auto)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-steps", type=_positive_int, help="stop after this many steps")
    p.add_argument("--log-json", metavar="FILE", help="write the loss/accuracy history as JSON")
    p.add_argument("--tensorboard", metavar="DIR", help="TensorBoard logs (when tensorboard is installed)")
    p.add_argument("--quiet", action="store_true", help="only the final line")
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _family_recipe(spec_name: str) -> str:
    """GoogLeNet-era variants train with SGD, Inception-v3 and later with RMSProp (as in the papers)."""
    return "googlenet" if spec_name.startswith(("googlenet", "nin", "bn_inception")) else "inception_v3"


def build_config(args: Any, spec_name: str, resumed: dict[str, Any] | None = None):
    """The TrainConfig the arguments ask for: recipe defaults (or the resumed run's), then each option given."""
    from ..engine.train import TrainConfig, demo_recipe, is_demo_source, recipe_defaults

    if resumed and not (args.recipe or args.optimizer):
        cfg = TrainConfig.from_dict(resumed)
    elif is_demo_source(args.data) and not (args.recipe or args.optimizer):
        cfg = demo_recipe()  # the papers' recipes barely move in a few epochs of the demo shapes
    else:
        recipe = args.recipe or (_RECIPE_OF_OPTIMIZER[args.optimizer] if args.optimizer else _family_recipe(spec_name))
        cfg = recipe_defaults(recipe)
    over: dict[str, Any] = {"out": args.out, "log_json": args.log_json, "tensorboard": args.tensorboard}
    pairs = {"optimizer": args.optimizer, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
             "schedule": args.schedule, "label_smoothing": args.label_smoothing, "aux_weight": args.aux_weight,
             "grad_clip": args.grad_clip, "weight_decay": args.weight_decay, "image_size": args.image_size,
             "width_mult": args.width_mult, "val_fraction": args.val_fraction, "device": args.device,
             "num_workers": args.workers, "seed": args.seed, "max_steps": args.max_steps}
    over.update({k: v for k, v in pairs.items() if v is not None})
    if args.no_augment:
        over["augment"] = False
    if args.no_amp:
        over["amp"] = False
    cfg = replace(cfg, **over)
    cfg.validate()
    return cfg


def _initial(args: Any):
    """(spec, init_state) from --resume / --init / --spec / --variant."""
    from ..cli import load_spec_arg
    from ..core import edits
    from ..core.presets import get_spec
    from ..core.weights import load_checkpoint
    from ..engine.train import load_resume

    if args.resume:
        if args.set or args.width_mult or args.image_size:
            raise StudioError("--resume continues the checkpoint's own spec: drop --set/--width-mult/--image-size")
        state = load_resume(args.resume)
        return state.spec, state
    init = None
    if args.init:
        ck = load_checkpoint(args.init)
        init = ck.state_dict
        spec = ck.spec if not (args.spec or args.variant) else None
    else:
        spec = None
    if spec is None:
        if not (args.spec or args.variant):
            raise StudioError("train: give --variant V or --spec S (or --resume CKPT)")
        spec = load_spec_arg(args.spec) if args.spec else get_spec(args.variant)
    spec = edits.apply_edits(spec, args.set or [])
    return spec, init


def _fmt_pct(x: float) -> str:
    return f"{100 * x:.1f}%" if math.isfinite(x) else "-"


def run(args: Any) -> int:
    """Train; print one line per epoch (rank 0); 0 when finished or stopped, 2 on a non-finite loss."""
    from ..engine import train as T

    spec, init = _initial(args)
    cfg = build_config(args, spec.name, getattr(init, "config", None))
    stop = {"asked": False}

    def on_sigint(_sig, _frame) -> None:
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True
        print("stopping after this step (Ctrl-C again to abort)…", file=sys.stderr)

    old = signal.signal(signal.SIGINT, on_sigint)
    rank, world, result, last_step = 0, 1, None, None
    say = (lambda *_a, **_k: None) if args.quiet else print
    try:
        for ev in T.train(cfg, spec, args.data, should_stop=lambda: stop["asked"], init_state=init):
            if isinstance(ev, T.StartEvent):
                world = ev.world_size
                import torch.distributed as dist
                rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
                if rank == 0:
                    say(f"training {ev.spec.name} ({ev.init}) at {ev.spec.input_size} px on {ev.device}"
                        + (f" x{world} processes" if world > 1 else "")
                        + f": {len(ev.class_names)} classes, {ev.train_count} train / {ev.val_count} val images, "
                          f"{ev.total_steps} steps")
            elif rank != 0:
                if isinstance(ev, T.StoppedEvent):
                    result = ev
                continue
            elif isinstance(ev, T.NoteEvent):
                print(f"note: {ev.message}", file=sys.stderr)
            elif isinstance(ev, T.StepEvent):
                last_step = ev
            elif isinstance(ev, T.EpochEvent):
                ls = last_step
                loss = f"{ls.loss:.4f}" if ls is not None else "-"
                speed = f"  {ls.images_per_s:.0f} img/s" if ls is not None and ls.images_per_s > 0 else ""
                say(f"epoch {ev.epoch}/{cfg.epochs}  loss {loss}  val loss {ev.val_loss:.4f}  "
                    f"val acc {_fmt_pct(ev.val_acc)}  train acc {_fmt_pct(ev.train_acc)}{speed}")
            elif isinstance(ev, T.StoppedEvent):
                result = ev
            elif isinstance(ev, T.DoneEvent):
                files = ", ".join(p for p in (ev.last_path, ev.best_path) if p)
                print(f"{result.message if result else 'done'}; val acc {_fmt_pct(ev.val_acc)}"
                      + (f"; wrote {files}" if files else ""))
    finally:
        signal.signal(signal.SIGINT, old)
    if world > 1:
        print(f"rank {rank}/{world}: {result.reason if result else 'ended'}", file=sys.stderr)
    if result is not None and result.reason == "nan":
        raise StudioError(result.message)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m inception_studio.commands.train ...``: the train command on its own."""
    from ..cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())

"""``inception-studio train``: headless training on the same engine as the GUI (engine.train).

Without ``--recipe`` the small-data recipe is chosen from the data and the model, and printed with
its reason; every option given on the command line overrides it. ``--lr find`` runs the
learning-rate finder first and trains at its suggestion. ``--train-part`` trains the whole network,
its last stages, or only the classifier (on features computed once). Runs single-process, or under
``torchrun --nproc-per-node N -m inception_studio train ...`` as DistributedDataParallel (only rank
0 prints progress and writes checkpoints and logs). The first Ctrl-C or a SIGTERM stops after the
current step and still writes the last checkpoint; a non-finite loss ends the run with a one-line
message and exit status 2.
"""
from __future__ import annotations

import argparse
import math
import signal
import sys
from dataclasses import replace
from typing import Any

from ..core.names import printable
from ..errors import StudioError

# Which recipe an --optimizer picks when no --recipe is given.
_RECIPE_OF_OPTIMIZER = {"sgd": "googlenet", "rmsprop": "inception_v3", "adamw": "adamw"}


def register(subparsers) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a variant or spec on an image folder (or the demo data)",
        description="Train on a folder of class subfolders (ImageFolder layout) or 'demo'. Without --recipe the "
                    "settings are chosen from the data (printed with the reason). Under torchrun it runs "
                    "DistributedDataParallel; only rank 0 writes checkpoints and logs.")
    p.add_argument("--data", required=True, metavar="DIR|demo", help="class-per-subfolder image folder, or demo")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--variant", metavar="V", help="a preset name (see 'variants')")
    src.add_argument("--spec", metavar="S", help="a spec .json file or a checkpoint (its spec)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="edit the spec first (repeatable)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--init", metavar="CKPT", help="start from a checkpoint's weights (fine-tune, new classifier)")
    start.add_argument("--pretrained", action="store_true",
                       help="start from the variant's pretrained ImageNet weights (downloaded once)")
    start.add_argument("--weights", metavar="FILE", help="start from a local torchvision/timm weights file")
    start.add_argument("--resume", metavar="CKPT", help="continue a run: weights, optimizer state, epoch and step")
    p.add_argument("--train-part", choices=("whole", "last", "classifier"), default=None,
                   help="what trains: the whole network (default), its last stage(s) and the classifier, or the "
                        "classifier only (features computed once: seconds on a CPU)")
    p.add_argument("--train-stages", type=_positive_int, metavar="N", help="stages that train with --train-part last")
    p.add_argument("--out", required=True, metavar="CHECKPOINT",
                   help="the last checkpoint; CHECKPOINT.best and .state files are written beside it")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out (and its .best/.state files)")
    p.add_argument("--recipe", choices=("auto", "googlenet", "inception_v3", "adamw"),
                   help="auto (default): chosen from the data; or the papers' defaults by name")
    p.add_argument("--optimizer", choices=("sgd", "rmsprop", "adamw"))
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--lr", type=_lr_value, metavar="LR|find", help="learning rate, or 'find' to run the lr finder")
    p.add_argument("--schedule", choices=("onecycle", "step", "cosine", "constant"))
    p.add_argument("--label-smoothing", type=_finite_float)
    p.add_argument("--aux-weight", type=_finite_float, help="weight of each aux head's loss (default: the spec's)")
    p.add_argument("--grad-clip", type=_positive_float)
    p.add_argument("--weight-decay", type=_finite_float)
    p.add_argument("--no-augment", action="store_true", help="no random crop / flip / colour jitter")
    p.add_argument("--crop-min", type=_positive_float, metavar="F", help="smallest random crop, as a share of the image")
    flips = p.add_mutually_exclusive_group()
    flips.add_argument("--flip", dest="flip", action="store_true", default=None, help="random horizontal flips")
    flips.add_argument("--no-flip", dest="flip", action="store_false", help="no flips")
    p.add_argument("--image-size", type=_positive_int, metavar="S", help="train at S px (aux heads off if too small)")
    p.add_argument("--width-mult", type=_positive_float, metavar="W", help="width multiplier (relative to the preset)")
    p.add_argument("--val-fraction", type=_finite_float, default=None)
    p.add_argument("--device", default=None, metavar="D", help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on GPU")
    p.add_argument("--workers", type=int, default=None, help="DataLoader worker processes (default: auto)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-steps", type=_positive_int, help="stop after this many steps")
    p.add_argument("--ddp-timeout", type=_positive_float, metavar="S",
                   help="seconds a process waits for a stalled one under torchrun (default 300)")
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


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _lr_value(text: str) -> float | str:
    return "find" if text.strip().lower() == "find" else _positive_float(text)


def _overrides(args: Any) -> dict[str, Any]:
    """The TrainConfig fields the command line sets explicitly."""
    over: dict[str, Any] = {"out": args.out, "log_json": args.log_json, "tensorboard": args.tensorboard}
    pairs = {"optimizer": args.optimizer, "epochs": args.epochs, "batch_size": args.batch_size,
             "lr": args.lr if args.lr != "find" else None, "schedule": args.schedule,
             "label_smoothing": args.label_smoothing, "aux_weight": args.aux_weight, "grad_clip": args.grad_clip,
             "weight_decay": args.weight_decay, "image_size": args.image_size, "width_mult": args.width_mult,
             "val_fraction": args.val_fraction, "device": args.device, "num_workers": args.workers,
             "seed": args.seed, "max_steps": args.max_steps, "train_part": args.train_part,
             "train_stages": args.train_stages, "flip": args.flip, "ddp_timeout_s": args.ddp_timeout}
    over.update({k: v for k, v in pairs.items() if v is not None})
    if args.crop_min is not None:
        over["crop_scale"] = (min(1.0, args.crop_min), 1.0)
    if args.no_augment:
        over["augment"] = False
    if args.no_amp:
        over["amp"] = False
    return over


def build_config(args: Any, spec, data, resumed: dict[str, Any] | None = None):
    """(TrainConfig, reason): the recipe (chosen from the data unless named, or the resumed run's), then
    every option given on the command line."""
    from ..engine import train as T

    over = _overrides(args)
    if resumed and not (args.recipe or args.optimizer):
        cfg, why = T.TrainConfig.from_dict(resumed), "the resumed run's settings"
    elif args.recipe in (None, "auto") and not args.optimizer:
        cfg, why = T.default_config(data, spec, **{k: v for k, v in over.items() if k in ("device", "image_size")})
    else:
        recipe = args.recipe or _RECIPE_OF_OPTIMIZER[args.optimizer]
        cfg, why = T.recipe_defaults(recipe), f"the {recipe} recipe"
    chosen = cfg
    cfg = replace(cfg, **over)
    cfg.validate()
    yours = [f"{k} {_show(v)}" for k, v in over.items()
             if k not in ("out", "log_json", "tensorboard", "device") and getattr(chosen, k) != v]
    return cfg, why + (f"; your settings: {', '.join(yours)}" if yours else "")


def _show(value: Any) -> str:
    return f"{value[0]:g}-{value[1]:g}" if isinstance(value, tuple) else f"{value:g}" if isinstance(value, float) \
        else str(value)


def _initial(args: Any):
    """(spec, init_state) from --resume / --init / --pretrained / --weights / --spec / --variant."""
    from ..cli import load_spec_arg
    from ..core import edits
    from ..core.presets import get_spec
    from ..core.weights import load_checkpoint
    from ..engine.train import load_resume

    if args.resume:
        extra = [flag for flag, given in (("--set", args.set), ("--width-mult", args.width_mult),
                                          ("--image-size", args.image_size), ("--variant", args.variant),
                                          ("--spec", args.spec), ("--train-part", args.train_part)) if given]
        if extra:
            raise StudioError(f"--resume continues the checkpoint's own spec and settings: drop {', '.join(extra)}")
        state = load_resume(args.resume)
        return state.spec, state
    init, spec = None, None
    if args.init:
        ck = load_checkpoint(args.init)
        init = ck.state_dict
        spec = ck.spec if not (args.spec or args.variant) else None
    if spec is None:
        if not (args.spec or args.variant):
            raise StudioError("train: give --variant V or --spec S (or --init/--resume CKPT)")
        spec = load_spec_arg(args.spec) if args.spec else get_spec(args.variant)
    if args.pretrained or args.weights:
        init = _reference_weights(args, spec)
    spec = edits.apply_edits(spec, args.set or [])
    return spec, init


def _reference_weights(args: Any, spec):
    """The state dict of the variant's pretrained weights (downloaded, or a local --weights file)."""
    from ..engine.loading import WeightsChoice, resolve_weights

    return resolve_weights(WeightsChoice.pretrained_for(spec, args.weights), spec).state_dict


def _fmt_pct(x: float) -> str:
    return f"{100 * x:.1f}%" if math.isfinite(x) else "-"


def _find_lr(cfg, spec, data, init, say) -> Any:
    from ..engine import train as T

    say(f"finding the learning rate ({cfg.optimizer}, at most {T.LR_FIND_STEPS} steps)…")
    result = T.find_lr(cfg, spec, data, init if not isinstance(init, T.ResumeState) else None)
    say(result.describe())
    return replace(cfg, lr=result.suggestion)


def run(args: Any) -> int:
    """Train; print one line per epoch (rank 0); 0 when finished or stopped, 2 on a non-finite loss."""
    from ..engine import train as T

    T.check_outputs(args.out, args.overwrite, args.resume)
    spec, init = _initial(args)
    resumed = getattr(init, "config", None) or {}
    val_fraction = args.val_fraction if args.val_fraction is not None else resumed.get("val_fraction", 0.2)
    seed = args.seed if args.seed is not None else resumed.get("seed", 0)
    data = T.prepare_data(args.data, val_fraction, seed)
    cfg, why = build_config(args, spec, data, resumed or None)
    say = (lambda *_a, **_k: None) if args.quiet else print
    say(f"recipe: {why}")
    if args.lr == "find":
        cfg = _find_lr(cfg, spec, data, init, say)
    stop = {"asked": False}

    def on_signal(sig, _frame) -> None:
        if stop["asked"] and sig == signal.SIGINT:
            raise KeyboardInterrupt
        stop["asked"] = True
        what = "Ctrl-C again to abort" if sig == signal.SIGINT else "saving the last checkpoint"
        print(f"stopping: the last completed step is kept ({what})…", file=sys.stderr)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result, world, rank = _consume(T.train(cfg, spec, data, should_stop=lambda: stop["asked"], init_state=init),
                                       cfg, say)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if world > 1:
        print(f"rank {rank}/{world}: {result.reason if result else 'ended'}", file=sys.stderr)
    if result is not None and result.reason == "nan":
        raise StudioError(result.message)
    return 0


def _consume(events, cfg, say) -> tuple[Any, int, int]:
    """Print the events of a run (rank 0); returns (StoppedEvent or None, world size, rank)."""
    from ..engine import train as T

    rank, world, result, last_step = 0, 1, None, None
    for ev in events:
        if isinstance(ev, T.StartEvent):
            world = ev.world_size
            import torch.distributed as dist
            rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
            if rank == 0:
                part = {"whole": "", "last": ", last stage(s) only", "classifier": ", classifier only"}[ev.train_part]
                say(f"training {printable(ev.spec.name)} ({ev.init}{part}) at {ev.spec.input_size} px on {ev.device}"
                    + (f" x{world} processes" if world > 1 else "")
                    + f": {len(ev.class_names)} classes, {ev.train_count} train / {ev.val_count} val images, "
                      f"{ev.total_steps} steps")
        elif rank != 0:
            if isinstance(ev, T.StoppedEvent):
                result = ev
        elif isinstance(ev, T.NoteEvent):
            print(f"note: {printable(ev.message, 400)}", file=sys.stderr)
        elif isinstance(ev, T.HintEvent):
            print(f"hint: {ev.message}", file=sys.stderr)
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
                  + (f"; wrote {files}" if files else "; wrote nothing"))
    return result, world, rank


def main(argv: list[str] | None = None) -> int:
    """``python -m inception_studio.commands.train ...``: the train command on its own."""
    from ..cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())

"""Does training learn a small real data set? Accuracy after a fixed budget, against peers in the same run.

Data: the UCI handwritten digits as scikit-learn ships them (1,797 scans by 43 writers, 10 classes),
upscaled to 32 px grayscale PNGs in an ImageFolder tree; one stratified 80/20 split (seed 0) for all.

Contenders, on the same split:
- ours: ``inception-studio train``'s default (the auto small-data recipe) on GoogLeNet x0.25 at 64 px,
  4 epochs (the issue's budget);
- bare: a plain hand-written torch loop, same model, init, seed, data and epochs, with a standard recipe
  (Adam lr 1e-3 as in the PyTorch/Keras tutorials, and SGD lr 0.01 momentum 0.9; resize only);
- classical: scikit-learn's logistic regression and RBF SVC on the raw 32x32 pixels.
Then: the learning-rate finder's time on the same model, and classifier-only fine-tuning from ours'
weights (features computed once) in images/s against whole-network training.
Targets: ours >= every peer, and >= 90% validation accuracy within 4 epochs on this 2-core CPU.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from benchmarks.datasets import digits_folder  # noqa: E402
from inception_studio.core.blocks import ModelOutput  # noqa: E402
from inception_studio.core.build import build_model  # noqa: E402
from inception_studio.core.presets import get_spec  # noqa: E402
from inception_studio.engine import data as D  # noqa: E402
from inception_studio.engine import train as T  # noqa: E402


def ours(spec, data: T.TrainData, epochs: int, width: float, size: int) -> tuple[float, float, T.FitResult, str]:
    """(val acc, seconds, result, recipe reason) of the default recipe."""
    cfg, why = T.default_config(data, spec, device="cpu", epochs=epochs, width_mult=width, image_size=size)
    t0 = time.perf_counter()
    result = T.fit(spec, data, cfg)
    return result.val_acc, time.perf_counter() - t0, result, why


def bare(spec, data: T.TrainData, epochs: int, width: float, size: int, optimizer: str) -> tuple[float, float]:
    """(val acc, seconds) of a plain loop with a standard recipe: no augmentation, resize to the input."""
    sized, _ = T.prepare_spec(spec, len(data.classes), width, size)
    torch.manual_seed(0)
    model = build_model(sized).train()
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    crit = nn.CrossEntropyLoss()
    tf = D.Preprocess(sized.input_size, 1.0, sized.mean, sized.std, sized.interpolation, sized.in_channels)
    train = DataLoader(D.ImageDataset(data.train, tf.eval_transform(), sized.in_channels), batch_size=32,
                       shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(0))
    val = DataLoader(D.ImageDataset(data.val, tf.eval_transform(), sized.in_channels), batch_size=64)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for x, y in train:
            out = model(x)
            loss = crit(out.logits, y) + 0.3 * sum(crit(a, y) for a in out.aux) if isinstance(out, ModelOutput) \
                else crit(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in val:
            right += int((model(x).argmax(1) == y).sum())
            total += len(y)
    return right / total, seconds


def pixels(samples: list[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Raw pixels (N x 1024 in [0, 1]) and labels of 32 px grayscale files."""
    x = np.stack([np.asarray(D.load_image(p, 1), dtype=np.float32).ravel() / 255.0 for p, _ in samples])
    return x, np.array([label for _, label in samples])


def classical(data: T.TrainData) -> dict[str, tuple[float, float]]:
    """{name: (val acc, seconds)} of scikit-learn classifiers on the raw pixels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    xtr, ytr = pixels(data.train)
    xva, yva = pixels(data.val)
    out = {}
    for name, clf in (("logistic regression", LogisticRegression(max_iter=3000)), ("SVC (rbf)", SVC())):
        t0 = time.perf_counter()
        clf.fit(xtr, ytr)
        out[name] = (float((clf.predict(xva) == yva).mean()), time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--variant", default="googlenet")
    ap.add_argument("--seeds", type=int, default=1, help="how many train/val splits to compare on")
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    spec = get_spec(args.variant)
    with tempfile.TemporaryDirectory() as tmp:
        root = digits_folder(Path(tmp) / "digits", size=32)
        means: dict[str, list[float]] = {}
        for seed in range(args.seeds):
            data = T.prepare_data(root, 0.2, seed)
            print(f"UCI digits (scikit-learn), 32 px grayscale, split seed {seed}: {len(data.train)} train / "
                  f"{len(data.val)} val images; {args.variant} x{args.width} at {args.size} px, {args.epochs} "
                  f"epochs, CPU x{torch.get_num_threads()}")
            acc, secs, run, why = ours(spec, data, args.epochs, args.width, args.size)
            if seed == 0:
                result, first_secs = run, secs
                print(f"recipe: {why}")
            rows = {"ours (auto recipe)": (acc, secs)}
            rows["bare loop, Adam 1e-3"] = bare(spec, data, args.epochs, args.width, args.size, "adam")
            rows["bare loop, SGD 0.01 m0.9"] = bare(spec, data, args.epochs, args.width, args.size, "sgd")
            rows.update(classical(data))
            for name, (a, s) in rows.items():
                ratio = "" if name.startswith("ours") else f"   ours / this = {acc / a:.3f}"
                print(f"{name:26} val acc {100 * a:5.1f}%  in {s:6.1f} s{ratio}")
                means.setdefault(name, []).append(a)
            best_peer = max(a for n, (a, _) in rows.items() if not n.startswith("ours"))
            print(f"ours >= every peer: {acc >= best_peer}   ours >= 90%: {acc >= 0.9}")
        if args.seeds > 1:
            print("mean over splits: " + ", ".join(f"{n} {100 * sum(v) / len(v):.1f}%" for n, v in means.items()))
        data = T.prepare_data(root, 0.2, 0)
        secs = first_secs

        cfg, _ = T.default_config(data, spec, device="cpu", width_mult=args.width, image_size=args.size)
        lr = T.find_lr(cfg, spec, data)
        epoch_s = secs / args.epochs
        print(f"lr finder: {len(lr.lrs)} steps in {lr.seconds:.1f} s ({lr.seconds / epoch_s:.2f} of one training "
              f"epoch), suggested lr {lr.suggestion:.2g} (the recipe's {cfg.lr:g})")

        whole_ips = len(data.train) * args.epochs / secs
        T.clear_feature_cache()
        head_cfg = T.default_config(data, spec, device="cpu", width_mult=args.width, image_size=args.size,
                                    epochs=args.epochs, train_part="classifier")[0]
        t0 = time.perf_counter()
        head = T.fit(spec, data, head_cfg, init_state=dict(result.model.state_dict()))
        head_s = time.perf_counter() - t0
        head_ips = len(data.train) * args.epochs / head_s
        print(f"classifier only (from ours' weights): {head_ips:,.0f} images/s against {whole_ips:,.0f} for the "
              f"whole network: {head_ips / whole_ips:.1f}x; val acc {100 * head.val_acc:.1f}% in {head_s:.1f} s "
              "(features computed once, included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

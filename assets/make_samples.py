"""Make the small sample images in assets/samples/ (good ones in many formats plus a few bad files).

Deterministic: numpy/PIL only, fixed seed, no timestamps, so re-running gives the same bytes.
Run from anywhere: ``python assets/make_samples.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "samples"


def _noise(rng: np.random.Generator, h: int, w: int, base: tuple[int, int, int], spread: int = 20) -> np.ndarray:
    """A solid colour with a little noise, as uint8 HxWx3."""
    arr = np.asarray(base, dtype=np.int16)[None, None, :] + rng.integers(-spread, spread + 1, (h, w, 3))
    return np.clip(arr, 0, 255).astype(np.uint8)


def make_samples(out: Path = OUT) -> list[Path]:
    """Write every sample file into ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1234)
    written: list[Path] = []

    def path(name: str) -> Path:
        """Register and return the output path for ``name``."""
        p = out / name
        written.append(p)
        return p

    # JPEG stored 64 wide x 48 high, left half red, right half blue; EXIF orientation 6 means
    # "rotate 90 degrees clockwise to display", so it loads 48 wide x 64 high with red on top.
    arr = np.zeros((48, 64, 3), dtype=np.uint8)
    arr[:, :32] = (220, 30, 30)
    arr[:, 32:] = (30, 30, 220)
    img = Image.fromarray(arr, "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(path("sample_rgb.jpg"), quality=90, exif=exif.tobytes())

    # RGBA 40x30: opaque green square on a fully transparent background (composites to white).
    rgba = np.zeros((30, 40, 4), dtype=np.uint8)
    rgba[10:20, 15:25] = (0, 200, 0, 255)
    Image.fromarray(rgba, "RGBA").save(path("sample_rgba.png"))

    # Palette 32x32 with index 0 transparent; a blue band of index 1 in the middle rows.
    pal = np.zeros((32, 32), dtype=np.uint8)
    pal[12:20, :] = 1
    p_img = Image.fromarray(pal, "L").convert("P")
    p_img.putpalette([0, 0, 0, 0, 0, 255] + [0, 0, 0] * 254)
    p_img.save(path("sample_palette.png"), transparency=0)

    # 16-bit grayscale 32x24: columns 0-9 are 32768 (mid grey), 10-19 are 65535, the rest 0.
    g16 = np.zeros((24, 32), dtype=np.uint16)
    g16[:, :10] = 32768
    g16[:, 10:20] = 65535
    Image.fromarray(g16).save(path("sample_gray16.png"))

    # CMYK JPEG 40x40: pure cyan (C=255) on the left, pure yellow on the right.
    cmyk = np.zeros((40, 40, 4), dtype=np.uint8)
    cmyk[:, :20, 0] = 255
    cmyk[:, 20:, 2] = 255
    Image.fromarray(cmyk, "CMYK").save(path("sample_cmyk.jpg"), quality=90)

    # Two-frame GIF 24x16: the first frame is red, the second green.
    frames = [Image.new("RGB", (24, 16), (255, 0, 0)), Image.new("RGB", (24, 16), (0, 255, 0))]
    frames[0].save(path("sample.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)

    # BMP, TIFF and WebP with noisy solid colours of distinct sizes.
    Image.fromarray(_noise(rng, 20, 30, (200, 120, 40)), "RGB").save(path("sample.bmp"))
    Image.fromarray(_noise(rng, 26, 36, (40, 120, 200)), "RGB").save(path("sample.tiff"))
    Image.fromarray(_noise(rng, 28, 44, (120, 200, 40)), "RGB").save(path("sample.webp"), quality=80)

    # Bad files: a JPEG cut in half, an empty PNG, a text file named .jpg.
    noisy = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")
    tmp = out / "_full.jpg"
    noisy.save(tmp, quality=85)
    data = tmp.read_bytes()
    tmp.unlink()
    path("bad_truncated.jpg").write_bytes(data[: len(data) // 2])
    path("bad_empty.png").write_bytes(b"")
    path("bad_not_image.jpg").write_text("These are notes, not a picture.\n", encoding="utf-8")
    return written


if __name__ == "__main__":
    files = make_samples()
    total = sum(p.stat().st_size for p in files)
    for p in files:
        print(f"{p.name:24s} {p.stat().st_size:7d} bytes")
    print(f"{len(files)} files, {total} bytes in all")

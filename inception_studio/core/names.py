"""Text that came from a file, made safe where it is used: as a file name, or printed on a terminal.

A spec's name, a checkpoint's class names and the like are data from whoever wrote the file. They are
never used as paths as they are (``safe_filename``), and never printed raw (``printable``): control
characters, escape sequences and line breaks are shown as visible escapes, so they cannot move the
cursor, recolour the terminal or forge an output line. No Qt, no torch.
"""
from __future__ import annotations

import re
import unicodedata

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# Names Windows refuses whatever the extension (a file saved on a share must still open there).
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                               *(f"lpt{i}" for i in range(1, 10))})


def safe_filename(name: object, default: str = "model", max_len: int = 64) -> str:
    """``name`` as one plain file-name component: letters, digits, ``._-`` only, never a path or hidden.

    ``"/some/dir/x"`` -> ``"some_dir_x"``, ``"../../a/b"`` -> ``"a_b"``, ``""`` -> ``default``.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = _UNSAFE_FILE_CHARS.sub("_", text).strip("._-")[:max_len].strip("._-")
    if not text or text.split(".")[0].lower() in _WINDOWS_RESERVED:
        text = f"{default}_{text}" if text else default
    return text


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def printable(text: object, max_len: int | None = 200) -> str:
    """``text`` on one line with control and format characters (ESC, newlines, bidi overrides) escaped.

    Printable characters, accents and other scripts included, are kept as they are; the result is cut
    to ``max_len`` characters (with "…") when that is given.
    """
    s = str(text)
    if max_len is not None:
        s = s[: max_len + 1]  # escaping only lengthens: nothing past this can show
    out = "".join(_escape(c) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") else c for c in s)
    if max_len is not None and len(out) > max_len:
        out = out[: max_len - 1] + "…"
    return out


def first_line(exc: BaseException, max_len: int = 160) -> str:
    """An exception's message as a reason inside a one-line error: its first line, printable, cut short
    (the type's name when it has no message)."""
    text = str(exc).strip()
    return printable(text.splitlines()[0] if text else type(exc).__name__, max_len)


def is_single_line(text: str) -> bool:
    """Whether ``text`` prints as itself: no control or format characters, no line breaks."""
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in text)


__all__ = ["safe_filename", "printable", "first_line", "is_single_line"]

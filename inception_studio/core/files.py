"""Files a user named: read without ever blocking on them, written atomically with the user's file mode.

Reading: a FIFO, a socket or a device named ``x.jpg`` or ``x.json`` would block ``open()`` or
``read()`` for ever; they are refused before anything waits on them. The file is opened non-blocking
and checked on the open descriptor, so it cannot be swapped for a FIFO between the check and the read.
Writing: ``atomic_write`` writes a temporary file beside the target and renames it over; a full disk
is a one-line ``SaveError`` and never leaves the temporary file behind. No Qt, no torch.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import WeightsError
from .names import first_line, printable


class NotReadable(OSError):
    """The path is missing, not a regular file, too large or unreadable; ``reason`` says which, briefly."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _refusal(mode: int) -> str:
    """Why a path of this mode is not read: "is a named pipe (FIFO), not a file", ..."""
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str], max_bytes: int | None = None) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (of at most ``max_bytes``); else NotReadable."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise NotReadable("file not found") from None
    except PermissionError:
        raise NotReadable("permission denied") from None
    except (OSError, ValueError) as exc:
        raise NotReadable(f"cannot read file ({getattr(exc, 'strerror', None) or exc})") from None
    if not stat.S_ISREG(st.st_mode):  # refused before open(): opening a FIFO may itself block
        raise NotReadable(_refusal(st.st_mode))
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError:
        raise NotReadable("permission denied") from None
    except OSError as exc:
        raise NotReadable(f"cannot read file ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)  # the file actually opened, whatever happened to the path since
        if not stat.S_ISREG(st.st_mode):
            raise NotReadable(_refusal(st.st_mode))
        if max_bytes is not None and st.st_size > max_bytes:
            raise NotReadable(f"too large ({st.st_size / 2**20:.1f} MiB; at most {max_bytes / 2**20:.0f} MiB)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """The stat of ``path`` if it is a regular file; NotReadable otherwise (nothing is opened)."""
    with open_regular(path) as fh:
        return os.fstat(fh.fileno())


def read_limited(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (NotReadable otherwise, also if it grew past it)."""
    with open_regular(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise NotReadable(f"too large (more than {max_bytes / 2**20:.0f} MiB)")
    return data


# ---- writing -------------------------------------------------------------------------------

class SaveError(WeightsError, OSError):
    """A file could not be written (disk full, no permission, ...); the file it would replace is unchanged."""


def _temp_beside(p: Path) -> str:
    """Create an empty ``.<name>.<random>.tmp`` beside ``p`` with the user's normal file mode (0666 less umask)."""
    for _ in range(100):
        tmp = p.parent / f".{p.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return str(tmp)
    raise FileExistsError(f"no free temporary name beside {p.name}")


def _io_reason(exc: BaseException) -> str | None:
    """The operating system's reason inside a write failure ("No space left on device"), None if it is not one."""
    if isinstance(exc, OSError):
        return exc.strerror or first_line(exc)
    m = re.search(r"os error (\d+)", str(exc))  # safetensors reports I/O failures as "... (os error 28)"
    if m:
        return os.strerror(int(m.group(1)))
    return first_line(exc) if "I/O error" in str(exc) else None


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so a crash never leaves half a file.

    The file gets the user's normal mode (umask), the temporary file never outlives the call, and a
    failure to write (full disk, no permission) is a one-line SaveError with ``path`` left as it was.
    """
    p = Path(path)
    tmp: str | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_beside(p)
        mode = os.stat(tmp).st_mode & 0o777  # 0666 less the umask, as the kernel applied it
        write(tmp)
        os.chmod(tmp, mode)  # some writers (safetensors) recreate the file as 0600
        os.replace(tmp, p)
        tmp = None
    except Exception as exc:
        reason = _io_reason(exc)
        if reason is None:
            raise
        kept = "the previous file is unchanged" if p.is_file() else "nothing was written"
        raise SaveError(f"{printable(p.name or str(p), 80)}: cannot write it ({reason}); {kept}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


__all__ = ["NotReadable", "open_regular", "check_regular", "read_limited", "SaveError", "atomic_write"]

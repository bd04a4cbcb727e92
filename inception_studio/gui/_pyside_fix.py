"""Guard against a PySide6 6.12 reference-count bug on Python < 3.12 (imported before any Qt use).

PySide6 6.12's stable-ABI wheels return ``None``/``True``/``False`` from C++ calls without taking
a reference (correct on Python 3.12+, where those objects are immortal). On Python 3.11 every void
call (``setToolTip``, ``setPos``, ``QPainter.setPen``...) and many signal emissions drop one
reference, so after a few thousand calls Python aborts with "deallocating None". Giving the three
singletons a huge reference count makes them effectively immortal, as Python 3.12 does.
"""
from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 48  # far more calls than any session makes; still far from overflow


def _immortalise(obj: object) -> None:
    # ob_refcnt is the first Py_ssize_t of every object header in a release CPython build.
    ctypes.c_ssize_t.from_address(id(obj)).value += _HEADROOM


def apply() -> bool:
    """Apply the guard once (a no-op on Python 3.12+); True if it changed anything."""
    if sys.version_info >= (3, 12) or getattr(sys, "_inception_studio_none_guard", False):
        return False
    if sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount"):  # debug builds differ
        return False
    for obj in (None, True, False):
        _immortalise(obj)
    sys._inception_studio_none_guard = True
    return True


apply()

"""Reading a spec from JSON someone else wrote: the one place that checks every field's type when read.

``spec_part`` turns JSON into an ``ArchSpec`` (or any of its parts) by the dataclasses' own field
types: a whole-number field takes a JSON whole number (never text, a bool or 10.5), a float field a
finite number, a list field a list (of at most ``MAX_ITEMS``), text is text of bounded length with no
control characters (free text may hold line breaks). Then ``validate_structure`` checks the ranges
and the structure. The size of what is read is bounded (``MAX_SPEC_BYTES``), NaN/Infinity and deep
nesting are refused. Every failure is a one-line ``SpecError`` naming the field. No torch, no Qt.
"""
from __future__ import annotations

import json
import math
import os
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from ..errors import SpecError
from .files import NotReadable, read_limited
from .names import printable

MAX_SPEC_BYTES = 4 * 2**20  # the largest preset is ~80 KB of indented JSON
MAX_ITEMS = 1024  # any list in a spec: stages, blocks, branches, ops, aux heads, mean/std
MAX_SHORT_TEXT = 200  # names, labels, kinds, roles, title
MAX_LONG_TEXT = 20_000  # description, notes, reference
LONG_TEXT_FIELDS = frozenset({"description", "notes", "reference"})
_HINTS: dict[type, dict[str, Any]] = {}


def show(value: Any) -> str:
    """A value as a message shows it: short, one line, its JSON kind named when it is not a number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"text '{printable(value, 40)}'"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return printable(repr(value), 40)


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _text(value: Any, where: str, long: bool) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{where}: must be text, got {show(value)}")
    limit = MAX_LONG_TEXT if long else MAX_SHORT_TEXT
    if len(value) > limit:
        raise SpecError(f"{where}: text of {len(value):,} characters is too long (at most {limit:,})")
    allowed = "\n\t" if long else ""
    if any((c < " " and c not in allowed) or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029\u202e\u2066\u2067\u2068"
           for c in value):
        raise SpecError(f"{where}: holds control characters ({printable(value, 40)})")
    return value


def _convert(tp: Any, value: Any, where: str, long_text: bool = False) -> Any:
    """``value`` (from JSON) as type ``tp``, or a SpecError naming ``where``."""
    if tp is bool:
        if not isinstance(value, bool):
            raise SpecError(f"{where}: must be true or false, got {show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{where}: must be a whole number, got {show(value)}")
        if abs(value) > 2**31:
            raise SpecError(f"{where}: {value:.3g} is out of range")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{where}: must be a number, got {show(value)}")
        try:
            f = float(value)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise SpecError(f"{where}: must be a finite number, got {show(value)}")
        return f
    if tp is str:
        return _text(value, where, long_text)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        return _convert(args[0], value, where, long_text)
    if origin is tuple:
        return _sequence(typing.get_args(tp), value, where)
    if is_dataclass(tp):
        return spec_part(tp, value, where)
    raise TypeError(f"spec reader: no rule for field type {tp!r}")  # a new field type needs a rule here


def _sequence(args: tuple, value: Any, where: str) -> tuple:
    if not isinstance(value, (list, tuple)):  # JSON gives lists; to_dict() keeps tuples
        raise SpecError(f"{where}: must be a list, got {show(value)}")
    if len(value) > MAX_ITEMS:
        raise SpecError(f"{where}: a list of {len(value):,} items is too long (at most {MAX_ITEMS})")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(value) != len(args):
        raise SpecError(f"{where}: must be a list of {len(args)}, got {show(value)}")
    return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))


def spec_part(cls: type, d: Any, where: str) -> Any:
    """Build dataclass ``cls`` (a spec or one of its parts) from a JSON object, checking every field."""
    if not isinstance(d, dict):
        raise SpecError(f"{where}: must be an object, got {show(d)}")
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in d if k not in known]
    if unknown:
        names = ", ".join(printable(k, 40) for k in sorted(map(str, unknown))[:5])
        raise SpecError(f"{where}: unknown field(s) {names}")
    missing = [n for n, f in known.items() if n not in d and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise SpecError(f"{where}: missing field(s) {', '.join(missing)}")
    hints = _hints(cls)
    kw = {name: _convert(hints[name], value, f"{where}.{name}", name in LONG_TEXT_FIELDS) for name, value in d.items()}
    return cls(**kw)


def _no_constant(name: str) -> Any:
    raise SpecError(f"spec: {name} is not a number JSON allows")


def parse_json(text: str | bytes, what: str = "spec") -> Any:
    """JSON text (at most MAX_SPEC_BYTES) as plain data; SpecError for bad JSON, NaN/Infinity or deep nesting."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"{what}: {len(text) / 2**20:.1f} MiB is too large for a spec (at most "
                        f"{MAX_SPEC_BYTES / 2**20:.0f} MiB)")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecError(f"{what}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise SpecError(f"{what}: JSON nested too deeply") from None
    except SpecError:
        raise
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise SpecError(f"{what}: not valid JSON ({printable(str(exc), 80)})") from None


def read_json_file(path: str | os.PathLike[str]) -> tuple[str, Any]:
    """(the file's name as messages show it, its JSON as plain data) for a regular file of at most
    MAX_SPEC_BYTES; SpecError naming the file otherwise."""
    name = printable(os.path.basename(os.fspath(path)) or os.fspath(path), 80)
    try:
        data = read_limited(path, MAX_SPEC_BYTES)
    except NotReadable as exc:
        raise SpecError(f"{name}: {'no such file' if exc.reason == 'file not found' else exc.reason}") from None
    try:
        return name, parse_json(data)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None


__all__ = ["MAX_SPEC_BYTES", "MAX_ITEMS", "parse_json", "spec_part", "read_json_file", "show"]

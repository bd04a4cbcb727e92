"""What a spec says it is: the identity fields (name, title, description, published errors, weights)
must describe the network the spec holds. A preset keeps its own; a spec edited from a preset gets an
"edited" identity (``<preset>_edited``, "<Title> (edited)", a description of what changed, no published
error, no published weights) and remembers its preset in ``based_on``; undone back to the preset's
structure it is the preset again. Pure Python, no Qt, no torch.
"""
from __future__ import annotations

from dataclasses import replace

from .presets import get_spec, list_variants
from .spec import ArchSpec

IDENTITY_FIELDS = ("name", "title", "description", "top1_error", "top5_error", "reference", "notes",
                   "weights_source", "based_on")
EDITED_SUFFIX = "_edited"


def base_preset(spec: ArchSpec) -> ArchSpec | None:
    """The preset ``spec`` is, or was edited from (None for a spec of its own)."""
    name = spec.based_on or spec.name
    return get_spec(name) if name in list_variants() else None


def same_structure(a: ArchSpec, b: ArchSpec) -> bool:
    """Whether ``a`` and ``b`` are the same network, whatever they call themselves."""
    return replace(a, **{f: getattr(b, f) for f in IDENTITY_FIELDS}) == b


def preset_name(spec: ArchSpec) -> str | None:
    """The preset ``spec`` is exactly (None when edited or not a preset)."""
    return spec.name if spec.name in list_variants() and spec == get_spec(spec.name) else None


def with_identity(spec: ArchSpec) -> ArchSpec:
    """``spec`` with identity fields that tell the truth about it (see the module docstring)."""
    base = base_preset(spec)
    if base is None:
        return spec
    if same_structure(spec, base):
        return base
    return replace(spec, name=base.name + EDITED_SUFFIX, title=f"{base.title} (edited)",
                   description=f"Edited from {base.title}: {describe_changes(spec, base)}.",
                   top1_error=None, top5_error=None, weights_source="", based_on=base.name,
                   notes=f"The published error and weights of {base.title} do not apply to this edited network.")


def describe_changes(spec: ArchSpec, base: ArchSpec) -> str:
    """What differs between ``spec`` and ``base``, in a few words ("Inception-A ×2 (was ×4), input 96 px")."""
    out: list[str] = []
    base_stages = {s.name: s for s in base.stages}
    for s in spec.stages:
        b = base_stages.get(s.name)
        if b is None:
            out.append(f"new stage {s.label}")
            continue
        if s.count != b.count:
            out.append(f"{s.label} ×{s.count} (was ×{b.count})")
        if s.blocks[:1] != b.blocks[:1] or (s.count == b.count and s.blocks != b.blocks):
            out.append(f"{s.label} blocks edited")
    out += [f"no {label}" for name, label in ((s.name, s.label) for s in base.stages)
            if name not in {x.name for x in spec.stages}]
    for field, text in (("input_size", "input {} px"), ("num_classes", "{} classes"), ("in_channels", "{} input channels"),
                        ("width_mult", "width ×{:g}"), ("aux_enabled", "aux heads {}")):
        value = getattr(spec, field)
        if value != getattr(base, field):
            out.append(text.format(("on" if value else "off") if field == "aux_enabled" else value))
    if spec.head != base.head:
        out.append("head edited")
    return ", ".join(out) or "settings edited"

"""The Inception-family presets: one file per family (as timm keeps them), each function returning an
ArchSpec, and the registry by name.

Weight-compatible presets follow the released code exactly (branch order, padding, BN eps) so the
reference state dicts load by position; paper presets follow the papers and say in ``notes`` how
they resolve the papers' inconsistencies (see shared/reference/inception_reference.md).
"""
from __future__ import annotations

from .registry import get_spec, list_variants

__all__ = ["get_spec", "list_variants"]

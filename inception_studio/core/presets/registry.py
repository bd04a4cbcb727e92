"""The presets by name, in family order: ``list_variants()`` and ``get_spec(name)`` (the CLI, the GUI's
variant list and the tests all iterate this one registry, as timm's ``_registry``)."""
from __future__ import annotations

from collections.abc import Callable

from ...errors import SpecError
from ..spec import ArchSpec
from .bn_inception import bn_inception
from .googlenet import googlenet, googlenet_paper
from .inception_resnet import inception_resnet_v1, inception_resnet_v2, inception_resnet_v2_paper
from .inception_v3 import inception_v3
from .inception_v4 import inception_v4
from .nin import nin


_REGISTRY: dict[str, Callable[[], ArchSpec]] = {
    "nin": nin,
    "googlenet": googlenet,
    "googlenet_paper": googlenet_paper,
    "bn_inception": bn_inception,
    "inception_v3": inception_v3,
    "inception_v4": inception_v4,
    "inception_resnet_v1": inception_resnet_v1,
    "inception_resnet_v2": inception_resnet_v2,
    "inception_resnet_v2_paper": inception_resnet_v2_paper,
}


def list_variants() -> list[str]:
    """Names of every preset, in family order."""
    return list(_REGISTRY)


_built: dict[str, ArchSpec] = {}


def get_spec(name: str) -> ArchSpec:
    """The preset spec called ``name``, built once per process: specs are immutable, so every caller shares it,
    and a spec edited back to its preset (core.identity) is that very object again, whose blocks the caches
    of the trace, the graph and the drawing already know."""
    spec = _built.get(name)
    if spec is None:
        try:
            make = _REGISTRY[name]
        except KeyError:
            raise SpecError(f"unknown variant '{name}' (known: {', '.join(_REGISTRY)})") from None
        spec = _built[name] = make()
    return spec

"""The drawn graph's geometry types and spacing constants (Box, Frame, Route, Layout), shared by the
layout and the edge router. Pure Python, no Qt.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAIN_GAP = 34.0  # between levels: leaves room for an edge's shape label (TB)
MAIN_GAP_LR = 84.0  # left to right the label runs along the edge, so levels sit further apart
CROSS_GAP = 16.0
TOP_GAP = 40.0
FRAME_PAD = 10.0
TITLE = 18.0
AUX_TURN = 5.0  # an aux head's edge turns this far past its source's exit (within FRAME_PAD)
SKIP_LANE = 22.0  # room beside a residual block's branches for the identity edge

ORIENTATIONS = ("TB", "LR")


@dataclass(frozen=True)
class Box:
    """A drawn node: a graph node, or a collapsed run of identical blocks (id ``run:b:<first>``)."""

    id: str
    kind: str
    label: str
    sub: str
    x: float
    y: float
    w: float
    h: float
    count: int = 1
    expandable: bool = False
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """An outline around a group: a stage, an expanded block, an unfolded run or a branch."""

    id: str
    kind: str  # "stage" | "block" | "run" | "branch"
    label: str
    x: float
    y: float
    w: float
    h: float
    depth: int


@dataclass(frozen=True)
class Route:
    """An edge as a polyline from ``src``'s exit to ``dst``'s entry, with its tensor-shape label."""

    src: str
    dst: str
    label: str
    points: tuple[tuple[float, float], ...]
    skip: bool = False
    fanout: bool = False  # one of several edges leaving a node: it bends near its start, not its end
    label_at: tuple[float, float] = (0.0, 0.0)  # where the label goes: in the free gap the edge crosses


@dataclass
class Layout:
    """Everything the view draws, in scene coordinates, plus which drawn item stands for each node."""

    orientation: str
    boxes: dict[str, Box] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    owner: dict[str, str] = field(default_factory=dict)  # graph node id -> drawn box/frame id
    width: float = 0.0
    height: float = 0.0


def shape_text(shape) -> str:
    """``28x28x256`` (H x W x C) or "" for no shape."""
    return f"{shape[1]}x{shape[2]}x{shape[0]}" if shape else ""

"""The block graph comes from the spec: hierarchy, concat/add nodes, stable ids, repeated runs."""
from __future__ import annotations

from inception_studio import build_model, get_spec
from inception_studio.core import edits
from inception_studio.core.graph import build_graph


def test_hierarchy_block_branch_op():
    g = build_graph(get_spec("googlenet"))
    block = g.nodes["b:inception3a"]
    assert block.label == "3a" and block.shape == (256, 28, 28)
    branches = [c for c in block.children if "/br" in c]
    assert branches == [f"b:inception3a/br{j}" for j in range(4)]
    assert g.nodes["b:inception3a/br1"].children == ("b:inception3a/br1/0", "b:inception3a/br1/1")
    assert g.nodes["b:inception3a/concat"].kind == "concat"
    assert g.nodes["b:inception3a/br1/1"].shape == (128, 28, 28)
    # edges at the top level carry shapes
    edge = next(e for e in g.edges if e.dst == "b:inception3a")
    assert edge.src == "b:maxpool2" and edge.shape == (192, 28, 28)
    assert g.order[0] == "input" and "head" in g.order and "aux:aux1" in g.nodes


def test_residual_blocks_have_projection_and_add_with_skip_edge():
    g = build_graph(get_spec("inception_resnet_v2"))
    inner = g.inner["b:block35_1"]
    assert g.nodes["b:block35_1/add"].kind == "add"
    assert any(e.src == "b:block35_1/in" and e.dst == "b:block35_1/add" for e in inner)
    assert any(e.src == "b:block35_1/concat" and e.dst == "b:block35_1/proj" for e in inner)


def test_forks_get_their_own_concat():
    g = build_graph(get_spec("inception_v3"))
    assert g.nodes["b:Mixed_7b/br1/cat"].shape == (768, 8, 8)
    assert g.nodes["b:Mixed_7b/br1/f0/0"].shape == (384, 8, 8)


def test_ids_are_stable_across_unrelated_edits():
    spec = get_spec("inception_v4")
    g1 = build_graph(spec)
    g2 = build_graph(edits.set_width(spec, "inception_c", None, 0, 0, 128))
    untouched = [n for n in g1.nodes if n.startswith(("b:inception_a", "b:inception_b"))]
    assert untouched and all(n in g2.nodes for n in untouched)
    assert g1.nodes["b:inception_a1"].params == g2.nodes["b:inception_a1"].params


def test_identical_consecutive_blocks_form_runs():
    g = build_graph(get_spec("inception_resnet_v2"))
    runs = {stage: len(r) for stage, r in g.runs if len(r) > 1}
    assert runs == {"inception_resnet_a": 10, "inception_resnet_b": 20, "inception_resnet_c": 9}


def test_node_module_paths_exist_in_the_built_model():
    spec = edits.scale_widths(get_spec("inception_v3"), 0.125)
    model = build_model(spec)
    g = build_graph(spec)
    for node in g.nodes.values():
        if node.module:
            model.get_submodule(node.module)

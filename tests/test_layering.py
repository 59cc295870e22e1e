"""The stack's layering: a module imports only from its own layer or below (DESIGN.md).

The one sanctioned upward edge is the late-import block at the bottom of ``nnkit/tensor.py``, through which
Tensor methods reach the ops.
"""

import ast
from pathlib import Path

import nnkit

PACKAGE = Path(nnkit.__file__).parent

# Lower number = lower layer. Prefixes are matched longest first.
LAYERS = {
    "nnkit.dtypes": 0, "nnkit.printing": 0, "nnkit.allocator": 0,
    "nnkit.autograd": 1, "nnkit.tensor": 1, "nnkit.creation": 1, "nnkit.random": 1,
    "nnkit.ops": 2,
    "nnkit.nn.functional": 3,
    "nnkit.nn": 4,
    "nnkit.optim": 5,
    "nnkit.data": 6, "nnkit.train": 6, "nnkit.serialization": 6, "nnkit.viz": 6, "nnkit.config": 6,
}
UPWARD_ALLOWED = {("nnkit.tensor", "nnkit.ops")}


def layer_of(module):
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    return None, None


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nnkit"):
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("nnkit"):
                    yield alias.name, node.lineno


def test_every_module_imports_only_downward():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        if source == "nnkit":
            continue  # the public surface gathers everything
        src_prefix, src_layer = layer_of(source)
        assert src_layer is not None, f"{source} is not assigned a layer in tests/test_layering.py"
        for target, line in imported_modules(ast.parse(path.read_text())):
            dst_prefix, dst_layer = layer_of(target)
            if dst_layer is None or dst_layer <= src_layer:
                continue
            if (src_prefix, dst_prefix) in UPWARD_ALLOWED:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            violations.append(f"{where} imports {target} (layer {dst_layer} > {src_layer})")
    assert not violations, "upward imports:\n" + "\n".join(violations)


def test_layer_table_rejects_an_upward_import():
    # The check itself must be able to fail: ops importing nn is upward.
    assert layer_of("nnkit.ops.shape")[1] < layer_of("nnkit.nn.functional.loss")[1]

"""The README's Python examples run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_python_examples():
    assert python_blocks()


def test_every_python_example_runs():
    for i, block in enumerate(python_blocks()):
        namespace = {}
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)


def test_quick_tour_values():
    namespace = {}
    exec(compile(python_blocks()[0], "README.md quick tour", "exec"), namespace)
    assert namespace["g"].item() == 12.0 and namespace["h"].item() == 12.0
    assert namespace["x"].grad.equal(namespace["w"].detach())

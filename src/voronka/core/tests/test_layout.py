"""House rules of the code base that a test can hold."""

import ast
import sys
from pathlib import Path

import voronka

PACKAGE = Path(voronka.__file__).parent


def test_rules_modules_import_only_the_standard_library():
    offenders = []
    for path in PACKAGE.glob("*/rules.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "__future__" and top not in sys.stdlib_module_names:
                    offenders.append(f"{path.parent.name}/rules.py imports {name}")
    assert offenders == []

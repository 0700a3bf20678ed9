"""House rules of the code base that a test can hold."""

import ast
import sys
from pathlib import Path

import voronka

PACKAGE = Path(voronka.__file__).parent


def _is_rules_module(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and parts[0] == "voronka" and parts[2] == "rules"


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
                if _is_rules_module(name):
                    continue  # another app's rules: held to the same test, so stdlib all the way
                if top != "__future__" and top not in sys.stdlib_module_names:
                    offenders.append(f"{path.parent.name}/rules.py imports {name}")
    assert offenders == []

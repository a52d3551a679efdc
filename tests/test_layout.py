"""The package's shape (README, "Layout"): imports run one way, modules and functions stay small,
`import symmetry` stays light. Read from the source with `ast`; no model, no photos."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "symmetry"
#: Lower layers first: a module may import only from its own layer or those before it.
LAYERS = ("_version", "vocabulary", "face", "photo", "batch", "capture", "trends", "render", "massage", "lab", "cli")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def _layer(module: str) -> int:
    """Layer index of a dotted module inside the package (symmetry.face.frame -> face)."""
    top = module.split(".")[1]
    return LAYERS.index(top)


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "relative"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(n, m) for n, m in found if m == "relative" or m == "symmetry" or m.startswith("symmetry.")]


def test_imports_run_one_way():
    wrong = []
    for path in _modules():
        own = ".".join(("symmetry",) + path.relative_to(PACKAGE).with_suffix("").parts)
        for line, module in _imports(path):
            if module in ("relative", "symmetry"):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {module} (use absolute symmetry.X.Y)")
            elif _layer(module) > _layer(own):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}, a layer above it")
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_modules_and_functions_are_small():
    big = []
    for path in _modules():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(PACKAGE)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    big.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {length} lines")
    assert not big, "\n".join(big)


def test_the_layer_list_knows_every_folder():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LAYERS), folders - set(LAYERS)


@pytest.mark.slow
def test_import_symmetry_loads_no_heavy_library():
    code = ("import sys, symmetry; heavy = [m for m in ('pandas', 'matplotlib', 'cv2', 'mediapipe') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    # and the public names still resolve (lazily)
    code = "import symmetry; print(callable(symmetry.analyze), callable(symmetry.compute_trends))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True True"

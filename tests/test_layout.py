"""The package's shape: the no-model subpackages never import the model stack, and every rule file
names the subpackage its stage lives in."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import REPO

SRC = REPO / "src" / "meaningmaps"
NO_MODEL = ("data", "maps", "evaluation", "workflow")  # and the top-level modules
MODEL_STACK = ("torch", "transformers", "peft", "deepspeed", "accelerate")


def _no_model_modules() -> list[str]:
    names = [f"meaningmaps.{p.stem}" for p in SRC.glob("*.py") if p.stem not in ("__init__", "cli")]
    for pkg in NO_MODEL:
        names += [f"meaningmaps.{pkg}.{p.stem}" for p in sorted((SRC / pkg).glob("*.py")) if p.stem != "__init__"]
    return sorted(names)


def test_no_model_subpackages_import_no_model_stack():
    """Importing every module of data/, maps/, evaluation/, workflow/ and the top level loads none of
    torch, transformers, peft, deepspeed (the light rules run in envs/core.yaml, which has none)."""
    modules = _no_model_modules()
    assert len(modules) > 30
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); "
            + "; ".join(f"import {m}" for m in modules)
            + f"; print(sorted(k for k in {MODEL_STACK!r} if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr[-800:])


def test_no_model_subpackages_have_no_lazy_model_imports():
    """Nor inside a function (which the import test above cannot see)."""
    pattern = re.compile(rf"^\s*(?:import|from)\s+({'|'.join(MODEL_STACK)})\b", re.M)
    files = [p for pkg in NO_MODEL for p in (SRC / pkg).glob("*.py")] + list(SRC.glob("*.py"))
    offenders = [f"{p.relative_to(REPO)}: {m.group(0).strip()}" for p in files for m in pattern.finditer(p.read_text())]
    assert offenders == []


def test_every_rule_file_names_its_modules_and_they_exist():
    """Each rule file's header says where its code lives (`Modules: src/meaningmaps/...`); the paths exist."""
    for smk in sorted((REPO / "rules").glob("*.smk")):
        lines = smk.read_text().splitlines()
        header = "\n".join(lines[: next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))])
        paths = re.findall(r"src/meaningmaps/[\w/]+\.py", header)
        assert paths, f"{smk.name}: the header names no module (src/meaningmaps/...)"
        for path in paths:
            assert (REPO / path).is_file(), f"{smk.name} names {path}, which does not exist"


# --- one-way imports -------------------------------------------------------------------------------

# Packages a module may import inside a function (so that the modules sharing its file, and whoever
# imports them, do without it), and why.
HEAVY = {
    **dict.fromkeys(("torch", "transformers", "peft", "accelerate", "deepspeed", "tokenizers", "huggingface_hub",
                     "safetensors", "tqdm"),
                    "the model extra (pyproject's [model], envs/model.yaml): the Snakefile, the light rules and the "
                    "launcher import the same modules without it, and it takes seconds to load"),
    "matplotlib": "seconds to import, and its backend (Agg) is chosen just before a figure is drawn",
}
# Other imports inside a function, each with its reason.
ALLOWED = {
    ("meaningmaps.model.finetune.train", "meaningmaps.model.finetune.testing_hooks"):
        "test code (a job that dies after a checkpoint): loaded only when a test sets its variable",
    # The Snakefile's parse (at every job's start) imports mat_files, map_export and dataset, and does
    # without scipy; scipy.io costs about 0.3 s to import.
    ("meaningmaps.data.mat_files", "scipy.io"): "only for reading a v4-v7 .mat file (0.3 s to import; the Snakefile's "
                                                "parse imports this module and reads none)",
    ("meaningmaps.data.mat_files", "h5py"): "only for a v7.3 (HDF5) .mat file, and its absence is refused with the fix",
    ("meaningmaps.data.map_export", "scipy.io"): "only for maps.formats: mat (rules/common.smk imports export_paths "
                                                 "at every parse)",
    ("meaningmaps.data.dataset", "meaningmaps.data.inspection"): "only for the error of a missing configured path: "
                                                                 "inspection reads rating matrices (scipy), which "
                                                                 "discover() at every parse does without",
    # The command line: each command imports its own modules (`meaningmaps --help` loads none of them).
    ("meaningmaps.cli", "meaningmaps.config"): "numpy loads with it, and `score` sets BLAS's thread count before "
                                               "numpy is imported",
    ("meaningmaps.cli", "meaningmaps.model.map_images"): "the `map` command's module (the model stack)",
    ("meaningmaps.cli", "meaningmaps.evaluation.score_folders"): "the `score` command's module (pandas, scipy, "
                                                                 "matplotlib; after the BLAS setting)",
    ("meaningmaps.cli", "meaningmaps.data.inspection"): "the `inspect` command's module (pandas, scipy)",
}
# Modules outside model/ that may import it: the command line dispatches to every stage
# (`meaningmaps map` rates with the model), importing the model only for that command.
DISPATCHERS = {"meaningmaps.cli", "meaningmaps.__main__"}


def _module_name(path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package_module(dotted: str) -> bool:
    base = SRC.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path) -> list[tuple[str, str | None]]:
    """(imported module, the function it is imported in or None) for each import of a file; relative
    imports resolved, and ``from package import name`` is package.name when that is a module."""
    import ast

    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((a.name, function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - child.level + 1] + ([child.module] if child.module else []))
                submodules = [f"{base}.{a.name}" for a in child.names if _is_package_module(f"{base}.{a.name}")]
                found.extend((name, function) for name in submodules or [base])
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            visit(child, inner)

    visit(ast.parse(path.read_text()), None)
    return found


def _package_imports() -> dict[str, list[tuple[str, str | None]]]:
    return {_module_name(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


def test_nothing_outside_model_imports_model():
    """The top level and data/, maps/, evaluation/, workflow/ never import model/, not even inside a
    function (the top level's schema module serves the config and model/ alike); only the command
    line dispatches to it."""
    offenders = [f"{module} imports {name}" for module, imports in _package_imports().items()
                 if not module.startswith("meaningmaps.model") and module not in DISPATCHERS
                 for name, _ in imports if name == "meaningmaps.model" or name.startswith("meaningmaps.model.")]
    assert offenders == []


def test_no_import_cycles():
    """No module of the package imports, directly or through others, a module that imports it (imports
    inside functions count: a cycle hidden in a function is still a cycle)."""
    graph = {module: {name for name, _ in imports if name.startswith("meaningmaps") and name != module}
             for module, imports in _package_imports().items()}
    cycles, state = [], {}

    def walk(module, path):
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                cycles.append(" -> ".join([*path[path.index(other):], other]))
            elif other not in state:
                walk(other, [*path, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert cycles == []


def test_package_inits_import_nothing_of_the_package():
    """Importing a module imports its packages' __init__s: they stay free of imports, so that the
    cycle test above can leave them out."""
    offenders = [f"{_module_name(p)} imports {name}" for p in SRC.rglob("__init__.py")
                 for name, _ in _imports(p) if name.startswith("meaningmaps")]
    assert offenders == []


def test_imports_inside_functions_only_of_heavy_optional_packages():
    """An import inside a function is of a heavy optional package (HEAVY), or listed in ALLOWED with its
    reason; everything else is imported at the top of its module, where a reader sees what a module
    depends on."""
    offenders, used = [], set()
    for module, imports in _package_imports().items():
        for name, function in imports:
            if function is None or name.split(".")[0] in HEAVY:
                continue
            if (module, name) in ALLOWED:
                used.add((module, name))
            else:
                offenders.append(f"{module}.{function}: import {name}")
    assert offenders == []
    assert set(ALLOWED) == used, f"ALLOWED lists imports that are gone: {sorted(set(ALLOWED) - used)}"

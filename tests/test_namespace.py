"""The package namespace: the names a learner meets at ``lk``'s top level, every other public name by module
(``lk.<module>.<name>``), nothing shadowed (``lk.<name>`` is one thing)."""

import importlib
import pkgutil
import re
from pathlib import Path

import labkit as lk

MODULES = [m.name for m in pkgutil.iter_modules(lk.__path__) if not m.name.startswith("_")]


def test_public_names_are_unique_across_modules():
    owner = {}
    for name in MODULES:
        for public in importlib.import_module(f"labkit.{name}").__all__:
            assert public not in owner, f"lk.{public} is exported by both labkit.{owner[public]} and labkit.{name}"
            owner[public] = name


SHADOWED = {"finetune"}  # lk.finetune is the training function notebook 02 calls; the module is labkit.finetune


def test_no_name_hides_a_module_and_every_name_is_reachable_by_module():
    """``lk.<module>`` is the module (``lk.sentences`` was once gen_qa's function), ``lk.<module>.<name>`` reaches
    every public name, and a top-level ``lk.<name>`` is the same object as its module's."""
    owner = {public: name for name in MODULES for public in importlib.import_module(f"labkit.{name}").__all__}
    for name in MODULES:
        module = importlib.import_module(f"labkit.{name}")
        if name in SHADOWED:  # the module's own function of the same name: labkit.<module> reaches the rest
            assert getattr(lk, name) is getattr(module, name), f"lk.{name} is neither the module nor its function"
        elif name != "cli":  # the command: ``python -m labkit``, not a library module
            assert getattr(lk, name) is module, f"lk.{name} is not the module labkit.{name}"
    for public, name in owner.items():
        if name not in SHADOWED:
            assert getattr(getattr(lk, name), public) is getattr(importlib.import_module(f"labkit.{name}"), public)
    for public in lk.__all__:
        assert public in owner, f"lk.{public} is in no module's __all__"
        assert getattr(lk, public) is getattr(importlib.import_module(f"labkit.{owner[public]}"), public)


def _named(paths) -> dict[str, str]:
    """Every ``lk.<name>`` written in ``paths`` (notebook text, code, docstrings), with a file that writes it."""
    found = {}
    for path in paths:
        for name in re.findall(r"(?<![\w.])lk\.(\w+)", path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


ROOT = Path(lk.__file__).parents[1]
FACING = [
    *(ROOT / "notebooks").glob("[0-9][0-9]_*.py"),
    ROOT / "README.md",
    *(ROOT / "docs").glob("*.md"),
    *(ROOT / "labkit").glob("*.py"),
]  # fmt: skip  (labkit: its docstrings and messages name lk.<name>)


def test_the_top_level_is_what_notebooks_readme_and_messages_name():
    """lk.<name> holds exactly the names a learner meets (a notebook, the README, a docstring or error message
    says ``lk.<name>``); every other public name is one step further, ``lk.<module>.<name>``. Checked both ways:
    a name they stop naming leaves the top level, one they start naming joins it."""
    named = _named(FACING)
    modules = set(MODULES)
    unnamed = sorted(set(lk.__all__) - set(named))
    assert not unnamed, f"lk.{unnamed[0]} is named by no notebook, README or message: reach it by its module"
    missing = sorted((n, where) for n, where in named.items() if n not in {*lk.__all__, *modules, "__version__"})
    assert not missing, f"{missing[0][1]} names lk.{missing[0][0]}, which is not at labkit's top level"


def test_tests_and_benchmarks_name_only_what_exists():
    named = _named([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")])
    absent = sorted((n, where) for n, where in named.items() if not hasattr(lk, n))
    assert not absent, f"{absent[0][1]} names lk.{absent[0][0]}, which does not exist"


def test_every_public_function_and_class_says_where_it_is_introduced():
    """d2l's convention: each docstring ends with the notebook that introduces the name, and it exists."""
    import inspect
    import re
    from pathlib import Path

    notebooks = {p.stem for p in (Path(lk.__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for name in MODULES:
        module = importlib.import_module(f"labkit.{name}")
        for public in module.__all__:
            obj = getattr(module, public)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants carry no docstring of their own
            said = re.findall(r"Introduced in (\d\d_\w+)\.ipynb", obj.__doc__ or "")
            assert said, f"lk.{public} ({name}.py): end its docstring with 'Introduced in NN_name.ipynb.'"
            assert set(said) <= notebooks, f"lk.{public} names a notebook that does not exist: {said}"

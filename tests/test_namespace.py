"""The package namespace: every module's public names reach ``lk`` unshadowed (``lk.<name>`` is one thing)."""

import importlib
import pkgutil

import labkit as lk

MODULES = [m.name for m in pkgutil.iter_modules(lk.__path__) if not m.name.startswith("_")]


def test_public_names_are_unique_across_modules():
    owner = {}
    for name in MODULES:
        for public in importlib.import_module(f"labkit.{name}").__all__:
            assert public not in owner, f"lk.{public} is exported by both labkit.{owner[public]} and labkit.{name}"
            owner[public] = name


def test_no_module_name_hides_a_function_and_every_name_is_reachable():
    for name in MODULES:
        module = importlib.import_module(f"labkit.{name}")
        for public in module.__all__:
            assert getattr(lk, public) is getattr(module, public), f"lk.{public} is not labkit.{name}.{public}"


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

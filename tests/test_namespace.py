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

"""Every exception class the package defines is a LocalskillsError, and every public one is
exported."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import localskills_pulumi
from localskills_pulumi import LocalskillsError

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(localskills_pulumi.__path__, "localskills_pulumi.")
)


def exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_every_exception_class_of_the_package_is_a_localskills_error() -> None:
    classes = exception_classes()
    assert len(classes) > 20  # the walk found the tree, the emulator's and the kit's
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, LocalskillsError))
    assert outside == []


def test_every_error_of_the_tree_is_exported_from_the_package() -> None:
    from localskills_pulumi import errors

    for name in errors.__all__:
        assert getattr(localskills_pulumi, name) is getattr(errors, name)
        assert name in localskills_pulumi.__all__
    assert localskills_pulumi.ImportFileError.__mro__[1].__name__ == "AdoptionError"

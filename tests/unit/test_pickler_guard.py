"""The guard against the SDK's nesting pickler wrappers (localskills_pulumi/_pickler.py)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from localskills_pulumi._pickler import pristine_pickler
from localskills_pulumi.provider import ScimTokenProvider

PICKLER: Any = pickle._Pickler


@pytest.fixture(autouse=True)
def pickler_restored() -> Iterator[None]:
    """Each test leaves the process's pickler as it found it."""
    found = {name: PICKLER.__dict__[name] for name in ("_batch_setitems", "save_dict")}
    yield
    for name, method in found.items():
        setattr(PICKLER, name, method)


def test_the_sdk_still_nests_a_wrapper_per_call() -> None:
    """Fails the day the SDK's serialize_provider stops nesting: then the guard can go."""
    before = PICKLER._batch_setitems
    serialize_provider(ScimTokenProvider())
    once = PICKLER._batch_setitems
    serialize_provider(ScimTokenProvider())
    assert before is not once is not PICKLER._batch_setitems


def test_after_a_thousand_dynamic_resources_the_guarded_provider_still_pickles_the_same() -> None:
    with pristine_pickler():
        expected = serialize_provider(ScimTokenProvider())
    with pytest.raises(RecursionError):  # the SDK's defect, as any dynamic resource meets it
        for _ in range(5000):
            serialize_provider(ScimTokenProvider())
    nested = PICKLER._batch_setitems

    with pristine_pickler():
        guarded = serialize_provider(ScimTokenProvider())

    assert guarded == expected
    assert PICKLER._batch_setitems is nested  # left as found


def test_the_guard_leaves_the_pickler_as_it_found_it() -> None:
    found = (PICKLER._batch_setitems, PICKLER.save_dict, pickle.Pickler)
    with pristine_pickler():
        serialize_provider(ScimTokenProvider())
    assert (PICKLER._batch_setitems, PICKLER.save_dict, pickle.Pickler) == found

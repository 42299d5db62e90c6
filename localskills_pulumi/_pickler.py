"""A guard against a defect of the Pulumi Python SDK (3.216 to 3.272 at least, the range this
package allows): ``pulumi.dynamic.dynamic.serialize_provider`` wraps
``pickle._Pickler._batch_setitems`` around its *current* value on every call and never puts it
back, so the n-th dynamic resource of a process pickles its provider through n nested wrappers,
and near 1,000 of them the recursion limit is reached (``RecursionError``).

:func:`pristine_pickler` sets the method back to the standard library's own for the length of
one resource's construction, and then to what it found: each ``ScimToken`` pickles through one
wrapper whatever ran before it, and leaves the pickler as it found it. The wrappers only sort
(sorted twice is sorted once), so ``__provider`` holds the same bytes as without the guard.
``tests/unit/test_pickler_guard.py`` fails the day the SDK stops nesting: then this can go.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable, Iterator
from typing import Any

_ORIGINAL = "_Pickler._batch_setitems"


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    """The standard library's method under any number of the SDK's wrappers (each keeps the
    method it wrapped in its closure)."""
    while getattr(method, "__qualname__", "") != _ORIGINAL:
        inner = [
            cell.cell_contents
            for cell in getattr(method, "__closure__", None) or ()
            if callable(cell.cell_contents)
        ]
        if len(inner) != 1:
            return method  # not a wrapper we know: leave it as it is
        method = inner[0]
    return method


@contextlib.contextmanager
def pristine_pickler() -> Iterator[None]:
    """Run the block with ``pickle._Pickler``'s dict methods unwrapped; restore them after."""
    pickler: Any = pickle._Pickler
    found = {name: pickler.__dict__[name] for name in ("_batch_setitems", "save_dict")}
    pickler._batch_setitems = _unwrapped(found["_batch_setitems"])
    try:
        yield
    finally:
        for name, method in found.items():
            setattr(pickler, name, method)

"""The one thread pool: ``function`` over items, in order, on threads when there is work for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def thread_map(function: Callable[[Any], T], items: Iterable[Any], workers: int) -> Iterator[T]:
    """``function(item)`` for every item, yielded in the items' order, on up to ``workers``
    threads (in the calling thread when one worker or one item is enough).

    numpy releases the GIL in its loops, so the row-block passes gain from threads.

    Examples
    --------
    >>> list(thread_map(lambda x: x * x, range(5), workers=2))
    [0, 1, 4, 9, 16]
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        yield from pool.map(function, items)

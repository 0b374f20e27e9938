"""Which keys have been seen before: pyisp's memories (valid documents, results) keep a
thing from the second time it is asked for, so that a service or a batch answering each
case once pays nothing to remember it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class Sightings:
    """The hashes of the last `size` keys seen once (not thread-safe: one per thread, or
    under its owner's lock). A hash shared by two keys only lets the second be kept early."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._marks: OrderedDict[int, None] = OrderedDict()

    def again(self, key: Hashable) -> bool:
        """Whether the key was seen before; noted when it was not."""
        mark = hash(key)
        if mark in self._marks:
            return True
        self._marks[mark] = None
        if len(self._marks) > self.size:
            self._marks.popitem(last=False)
        return False

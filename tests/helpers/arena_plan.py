"""Checks of an ahead-of-time arena plan shared by the unit tests."""

from __future__ import annotations

import itertools
from typing import Sequence

from platformio_plugin.aot.plan import Buffer, Tie, tie_groups


def live_overlaps(
    buffers: Sequence[Buffer], offsets: dict[str, int], ties: Sequence[Tie] = ()
) -> list[tuple[Buffer, Buffer]]:
    """Pairs of buffers alive at the same time that share bytes, other than tied ones (a
    layer run in place and its input)."""
    group = {k: g for k, (g, _) in tie_groups(ties).items()}
    bad = []
    for a, b in itertools.combinations(buffers, 2):
        same_group = a.key in group and group.get(a.key) == group.get(b.key)
        alive_together = a.first <= b.last and b.first <= a.last
        apart = (
            offsets[a.key] + a.size <= offsets[b.key] or offsets[b.key] + b.size <= offsets[a.key]
        )
        if alive_together and not apart and not same_group:
            bad.append((a, b))
    return bad

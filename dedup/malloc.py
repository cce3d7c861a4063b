"""glibc's malloc, set for the processes of a long run: the command's own, and the
worker processes it forks.

Its thresholds adapt to the largest block freed so far (up to 32 MB): after that, blocks
of up to that size come from the heap, and up to twice that stays held when freed. Only
the command and dedup's own worker processes set them (a library does not set its
host's allocator); C libraries without ``mallopt`` keep theirs.
"""

from __future__ import annotations

import ctypes

# glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _thresholds(trim: int, mapped: int) -> None:
    """Give memory back when more than ``trim`` bytes are free at the heap's top; map
    blocks of ``mapped`` bytes and more apart (each given back when freed)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_TRIM_THRESHOLD, trim)
    mallopt(_M_MMAP_THRESHOLD, mapped)


def return_freed_memory() -> None:
    """The deciding process gives memory back to the system as numpy frees it.

    The per-batch arrays and the stream's text (several MB, made anew each batch) kept
    its peak RSS a quarter above what is in use with the adaptive thresholds. Fixed ones
    (blocks from 4 MB on mapped apart, the heap trimmed past 2 MB free) took 403k lines
    without repeats, ``--jobs 2``, from 964 to 766 bytes a line, for 3% more time (median
    of three, interleaved; at 2 MB both, 755 bytes and 5.5%).
    """
    _thresholds(2 << 20, 4 << 20)


def keep_freed_memory() -> None:
    """A worker process keeps what it frees for its next job: it frees and makes again a
    batch's arrays, job after job. With the deciding process's thresholds, which came
    with the fork, every job had the pages of its arrays mapped and faulted in anew: 1M
    shuffled lines, ``--jobs 2``, 1.3M page faults and 3.2 s of system time against 0.7M
    and 2.1 s with these (the most the adaptive thresholds reach). A worker's memory is a
    few batches'."""
    _thresholds(64 << 20, 32 << 20)

"""Forked worker processes for matching's large batches.

Matching's work is plain Python over records the parent already holds; forked workers see them
without copying, and on a machine with several cores each worker takes its share. Where fork is
not available, or the batch is small, the caller does the work itself, with the same result.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.pool
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from ..cpus import usable_cpus

__all__ = ["in_chunks", "in_parts", "part_bounds", "pool_size", "worker_signals"]

T = TypeVar("T")
U = TypeVar("U")


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def pool_size(workers: int, items: int, minimum: int) -> int:
    """How many processes to work on ``items`` things with: ``workers`` (0: one per processor
    this process may run on) when fork is available and there are at least ``minimum`` things,
    else 1 (the caller alone)."""
    wanted = workers if workers > 0 else usable_cpus()
    if wanted > 1 and items >= minimum and _can_fork():
        return wanted
    return 1


def worker_signals() -> None:
    """Give a forked worker the default signal handling back.

    A worker inherits the parent's Python handlers: the command line's SIGTERM handler raises an
    exception to unwind the run, and in a worker that unwinding (while the pool stops its workers
    with SIGTERM) can stop on a lock the parent waits for, so the run hangs. A worker should just
    die on SIGTERM, and leave Ctrl-C to the parent, which stops the pool.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# The job of ``in_parts``' workers: set just before they are forked, inherited by them.
_PART_JOB: Callable[[int, int], object] | None = None


def _run_part(bounds: tuple[int, int]) -> object:
    assert _PART_JOB is not None  # set by in_parts before the workers were forked
    return _PART_JOB(*bounds)


def part_bounds(count: int, parts: int) -> list[tuple[int, int]]:
    """``range(count)`` cut into ``parts`` contiguous (start, stop) pieces of near equal size."""
    parts = max(1, min(parts, count))
    return [(count * k // parts, count * (k + 1) // parts) for k in range(parts)]


def in_parts(
    count: int,
    size: int,
    job: Callable[[int, int], T],
    pack: Callable[[T], U],
    unpack: Callable[[U], T],
) -> list[T]:
    """``job(start, stop)`` over ``size`` contiguous parts of ``range(count)``, results in order.

    The first part is done here while ``size - 1`` forked workers do the others (all of them
    here where fork is not available). A worker's result travels back pickled, as ``pack``
    makes it (leave out what the parent has already: the records themselves); ``unpack`` makes
    it whole again here.
    """
    bounds = part_bounds(count, size)
    if len(bounds) == 1 or not _can_fork():
        return [job(start, stop) for start, stop in bounds]

    def packed(start: int, stop: int) -> U:
        return pack(job(start, stop))

    global _PART_JOB
    _PART_JOB = packed
    try:
        with _pool(len(bounds) - 1) as pool:
            pending = pool.map_async(_run_part, bounds[1:], chunksize=1)
            first = job(*bounds[0])
            rest = cast(list[U], pending.get())
    finally:
        _PART_JOB = None
    return [first, *(unpack(value) for value in rest)]


@contextmanager
def _pool(workers: int) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of forked workers, with the collector's objects frozen while it runs."""
    # Frozen objects are left alone by the workers' collector: it would otherwise write to
    # every shared page it walks, and the kernel would copy them all into each worker.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=worker_signals) as pool:
            yield pool
    finally:
        gc.unfreeze()


# The job of ``in_chunks``' workers: set just before they are forked, inherited by them.
_CHUNK_JOB: Callable[[int, int], list[object]] | None = None


def _run_chunk(bounds: tuple[int, int]) -> list[object]:
    assert _CHUNK_JOB is not None  # set by in_chunks before the workers were forked
    return _CHUNK_JOB(*bounds)


def in_chunks(
    count: int,
    size: int,
    chunk: int,
    job: Callable[[int, int], list[T]],
) -> list[T]:
    """``job(start, stop)`` over chunks of ``range(count)`` of at most ``chunk`` items, on
    ``size`` processes (this one and ``size - 1`` forked workers), the results joined in order.

    This process takes chunks ``0``, ``size``, ``2 * size``…, the workers the others: where the
    work per item drifts along the range, each still gets its share of the slow and the quick.
    This process works too rather than wait on the workers: with one worker fewer, one copy
    fewer of the pages the work touches (a worker that reads an object writes to its reference
    count, and the kernel copies the page into it). A worker sends each chunk's results back
    as soon as it has them, so it holds no more than one chunk's. Where fork is not available,
    every chunk is done here. A worker's error is raised here, once this process has finished
    the chunk it is on.
    """
    chunk = max(1, chunk)
    bounds = [(a, min(a + chunk, count)) for a in range(0, count, chunk)]
    size = max(1, min(size, len(bounds)))
    if size == 1 or not _can_fork():
        return [value for a, b in bounds for value in job(a, b)]
    global _CHUNK_JOB
    _CHUNK_JOB = cast(Callable[[int, int], list[object]], job)
    theirs = [b for i, b in enumerate(bounds) if i % size]
    try:
        with _pool(size - 1) as pool:
            pending = pool.map_async(_run_chunk, theirs, chunksize=1)
            mine: list[list[T]] = []
            for a, b in bounds[::size]:
                if pending.ready() and not pending.successful():
                    break  # a worker failed: get() below raises its error now
                mine.append(job(a, b))
            rest = iter(cast(list[list[T]], pending.get()))
    finally:
        _CHUNK_JOB = None
    return [
        value
        for i in range(len(bounds))
        for value in (mine[i // size] if i % size == 0 else next(rest))
    ]

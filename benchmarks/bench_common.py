"""What the build benchmarks share: the generated borough or dataset they build (reused when given,
else generated), and a build in a child process of its own, so that its peak memory is its own.

Not a benchmark itself; ``bench_build.py``, ``bench_spark.py`` and ``bench_national.py`` import it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def borough_folder(given: Path | None, tmp: Path, seed: int, properties: int) -> Path:
    """``given`` (a folder written by ``bx generate``), else a borough of ``properties`` generated
    under ``tmp``."""
    if given is not None:
        return given
    from business_index.synthetic import generate_borough

    borough = tmp / "borough"
    generate_borough(borough, seed, properties)
    return borough


def dataset_folder(folder: Path, seed: int, boroughs: int, properties_per_borough: int,
                   say: Callable[[str], None] = print) -> tuple[Path, float | None]:
    """A dataset of many boroughs in ``folder``: reused when ``folder`` holds one (its manifest),
    else generated there. Returns the folder and the seconds generation took (None when reused)."""
    from business_index.synthetic.national import MANIFEST, generate_dataset

    if (folder / MANIFEST).exists():
        return folder, None
    started = time.perf_counter()
    generate_dataset(folder, seed, boroughs, properties_per_borough, progress=lambda m: say(f"  generating {m}"))
    return folder, time.perf_counter() - started


class _MemoryWatch:
    """Samples the resident memory of this process and its children (build workers, a Spark JVM)
    four times a second, keeping the peak of each step of the build as its progress names them and
    when each step began. Past ``limit`` bytes it calls ``on_limit`` (on a shared machine a build
    that outgrows its share is stopped before the kernel picks something to kill)."""

    def __init__(self, limit: int | None = None, on_limit: Callable[[_MemoryWatch], None] | None = None) -> None:
        import psutil

        self.process = psutil.Process()
        self.started = time.perf_counter()
        self.step = "starting"
        self.began: dict[str, float] = {"starting": 0.0}
        self.peaks: dict[str, int] = {}
        self.peak = 0
        self.limit = limit
        self.on_limit = on_limit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def progress(self, step: str, done: int, total: int) -> None:
        self.step = step.split(" (")[0]  # "reading llpg (40 files)" -> "reading llpg"
        self.began.setdefault(self.step, round(time.perf_counter() - self.started, 1))

    def by_step(self) -> list[dict[str, Any]]:
        """Each step: when it began (seconds into the build) and the peak memory seen in it (MiB)."""
        return [{"step": step, "began_s": began, "peak_mib": round(self.peaks.get(step, 0) / 2**20)}
                for step, began in self.began.items() if step in self.peaks]  # sampled at least once

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def sample(self) -> None:
        try:
            rss = self.process.memory_info().rss
            for child in self.process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except Exception:  # noqa: BLE001 - a worker that ended between listing and reading
                    continue
        except Exception:  # noqa: BLE001 - never let the watch fail the build it watches
            return
        self.peak = max(self.peak, rss)
        self.peaks[self.step] = max(self.peaks.get(self.step, 0), rss)
        if self.limit is not None and rss > self.limit and self.on_limit is not None:
            self.on_limit(self)


def _build(config: str, index: str, engine: str | None, max_rss_mib: int | None,
           queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from business_index.build import build_index
    from business_index.config import load_settings, with_engine

    settings = load_settings(Path(config))
    if engine is not None:
        settings = with_engine(settings, engine, None)
    started = time.perf_counter()

    def give_up(watch: _MemoryWatch) -> None:
        for child in watch.process.children(recursive=True):
            with contextlib.suppress(Exception):  # a worker already gone
                child.kill()
        queue.put({"aborted": f"the build and its workers passed {max_rss_mib:,} MiB during {watch.step!r}",
                   "seconds": round(time.perf_counter() - started, 1), "peak_tree_rss_mib": round(watch.peak / 2**20),
                   "steps": watch.by_step()})
        queue.close()
        queue.join_thread()
        os._exit(3)

    limit = max_rss_mib * 2**20 if max_rss_mib else None
    with _MemoryWatch(limit, give_up) as watch:
        report = build_index(settings, Path(index), progress=watch.progress)
        watch.sample()
    businesses = report.linking.get("businesses", {})
    queue.put({"seconds": round(time.perf_counter() - started, 1), "stages": report.seconds,
               "link_businesses_steps": businesses.get("seconds"), "pairs_scored": businesses.get("pairs_scored"),
               "counts": report.counts,
               "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               "peak_tree_rss_mib": round(watch.peak / 2**20), "steps": watch.by_step()})


def build_in_child(config: Path, index: Path, engine: str | None = None,
                   max_rss_mib: int | None = None) -> dict[str, Any]:
    """Build ``index`` from ``config`` in a spawned child process: stage seconds, counts, pairs
    scored, the child's own peak RSS (``peak_rss_mib``) and the peak of it with its workers
    (``peak_tree_rss_mib``, sampled; ``steps``: when each step of the build began and its peak).
    Past ``max_rss_mib`` the build is stopped and the result says ``aborted``."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_build, args=(str(config), str(index), engine, max_rss_mib, queue))
    process.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=5)
            break
        except Exception:  # noqa: BLE001 - queue.Empty: still building, unless the child died
            if not process.is_alive():
                raise RuntimeError(f"the build process ended without a result (exit code {process.exitcode})") from None
    process.join()
    return result


def accuracy(index: Path, truth: Path) -> dict[str, Any]:
    """The build's precision, recall and F1 against the generator's truth (three levels) and the
    18-way supplier check."""
    from business_index.evaluate.synthetic import evaluate_against_truth

    scores = evaluate_against_truth(index, truth)
    return {
        "record_to_uprn": {k: scores["record_to_uprn"][k] for k in ("precision", "recall", "f1")},  # type: ignore[index]
        "establishments": {k: scores["establishments"][k] for k in ("precision", "recall", "f1")},  # type: ignore[index]
        "organisations": {k: scores["organisations"][k] for k in ("precision", "recall", "f1")},  # type: ignore[index]
        "eighteen_way_supplier": scores.get("eighteen_way_supplier"),
    }

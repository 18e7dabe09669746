"""Rendering in worker processes, each task with a time limit and each worker with a memory limit.

    with RenderPool(workers=2, timeout_s=60, memory_mb=1024) as pool:
        for key, result in pool.render_many((key, "settlement", context, "zh_CN") for ...):
            if result.error: ...        # this one failed; the others go on
            else: store(result.pdf)

    pdf = render_one("settlement", context, "en", timeout_s=60)   # one report, e.g. from the CLI

Why hand-written rather than `pebble.ProcessPool` (which would also do): the whole contract is
about 150 lines of `multiprocessing.connection` and needs exactly this, with no dependency:
- a task is handed to an idle worker only (no prefetch queue), so killing a worker that overran
  its time loses nothing but that task, and the worker is replaced at once;
- the parent keeps one pipe per worker and waits on all of them with the nearest deadline as the
  time-out: no helper threads in the parent, which is often a web or scheduler process;
- a worker that dies (memory limit hit inside C code, segfault, OOM killer) is seen as EOF on its
  pipe, reported against its task only, and replaced;
- the registry of report kinds is handed to each worker at start, so kinds registered at run
  time (tests, plug-ins) exist there too, whatever the start method.

Start method: "forkserver" by default. "fork" is unsafe in a parent with threads (a web server,
APScheduler) and "spawn" re-imports the app (about a second) in every new worker; the fork server
is started once per parent, imports the engine (WeasyPrint, Jinja, the app's labels) once, and
forks each worker from that clean single-threaded process, so a worker starts in milliseconds and
a killed one is replaced as cheaply. benchmarks/reports.py compares it with "spawn". The fork
server only imports: it renders nothing, since Pango may start a thread to load fontconfig and a
process with threads must not fork; each worker builds its font configuration, Jinja environment
and parsed stylesheet on its first report (about 0.15 s) and keeps them.

The memory limit is RLIMIT_AS (address space) set in the worker before its first task: an
allocation past it fails, Python raises MemoryError, the task fails with an error saying so and
the worker is replaced; C code that cannot allocate may crash the worker instead, which is reported
the same way.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait

from . import engine

DEFAULT_START_METHOD = "forkserver"
# The modules the fork server imports once, so that every worker forked from it has them.
PRELOAD = ["reports.engine", "channel.i18n"]


@dataclass(frozen=True)
class RenderResult:
    pdf: bytes | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


class RenderFailed(Exception):
    """render_one could not make the report: the message says why (error, time or memory)."""


# --- the worker ------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    """The exception and, for a template error, where in which template (Jinja puts template
    frames into the traceback)."""
    text = f"{type(exc).__name__}: {exc}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".css")) or frame.filename == "<template>":
            return f"{text} ({os.path.basename(frame.filename)}, line {frame.lineno})"
    return text


def _worker(conn, kinds: dict, memory_mb: int | None, scratch: str) -> None:
    # Ctrl-C goes to the whole process group: let the parent decide, and kill us if need be.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # WeasyPrint copies @font-face fonts into a temporary directory that a killed (or os._exit-ed)
    # worker never removes: keep them in the pool's scratch directory, which the pool removes.
    tempfile.tempdir = scratch
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    engine.install_kinds(kinds)
    out_of_memory = (f"memory limit exceeded ({memory_mb} MiB): MemoryError" if memory_mb
                     else "out of memory: MemoryError")
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        kind, context, lang = task
        started = time.perf_counter()
        retire = False
        try:
            reply = ("ok", engine.render_pdf(kind, context, lang))
        except MemoryError:
            # Whatever was half-built may still hold memory: start afresh.
            retire = True
            reply = ("error", out_of_memory)
        except Exception as exc:  # noqa: BLE001 - any failure of one report is that report's
            reply = ("error", _describe(exc))
        try:
            conn.send((*reply, time.perf_counter() - started, retire))
        except MemoryError:
            conn.send(("error", out_of_memory, time.perf_counter() - started, True))
            return
        if retire:
            return


# --- the pool --------------------------------------------------------------------------------


class _Worker:
    __slots__ = ("process", "conn", "key", "deadline", "started")

    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.key = None
        self.deadline = None
        self.started = 0.0


class RenderPool:
    """`workers` processes rendering reports; each task gets `timeout_s` seconds (then its worker
    is killed and replaced) and each worker `memory_mb` MiB of address space (None: no limit)."""

    def __init__(self, workers: int, timeout_s: float = 60, memory_mb: int | None = 1024, *,
                 start_method: str | None = None):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.start_method = start_method or DEFAULT_START_METHOD
        self._ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            # Effective only if this process has not started its fork server yet.
            self._ctx.set_forkserver_preload(PRELOAD)
        self._idle: list[_Worker] = []
        self._busy: dict[object, _Worker] = {}
        self._closed = False
        self._kinds = None
        self._scratch = None

    # -- life cycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        if self._closed:
            raise RuntimeError("the pool is closed")
        self._kinds = dict(engine.KINDS)
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="channel-reports-")
            # A pool kept open for the life of a process (the scheduler's) is closed at exit.
            atexit.register(self.close)
        while len(self._idle) + len(self._busy) < self.workers:
            self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent_end, child_end = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker, args=(child_end, self._kinds, self.memory_mb, self._scratch),
            name="report-worker", daemon=True,
        )
        process.start()
        child_end.close()  # so that the worker's death reads as EOF here
        return _Worker(process, parent_end)

    def _discard(self, worker: _Worker, *, kill: bool) -> None:
        if kill and worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()

    def close(self):
        """Stop the workers: idle ones are asked to exit, busy ones are killed."""
        if self._closed:
            return
        self._closed = True
        for worker in self._idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in list(self._busy.values()):
            self._discard(worker, kill=True)
        for worker in self._idle:
            worker.process.join(5)
            self._discard(worker, kill=True)
        self._idle.clear()
        self._busy.clear()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def pids(self) -> list[int]:
        """The workers' process ids (for measuring their memory)."""
        return [w.process.pid for w in (*self._idle, *self._busy.values())]

    # -- work

    def render_many(self, tasks: Iterable[tuple]) -> Iterator[tuple[object, RenderResult]]:
        """Render `(key, kind, context, lang)` tasks; yield `(key, RenderResult)` as each is done
        (not in the given order). Tasks are taken from the iterable only as workers free up."""
        if not self._idle and not self._busy:
            self.start()
        todo = iter(tasks)
        exhausted = False
        try:
            while True:
                while self._idle and not exhausted:
                    task = next(todo, None)
                    if task is None:
                        exhausted = True
                        break
                    failed = self._dispatch(task)
                    if failed is not None:
                        yield failed
                if not self._busy:
                    return
                now = time.monotonic()
                nearest = min(w.deadline for w in self._busy.values())
                for conn in wait(list(self._busy), timeout=max(0.0, nearest - now)):
                    yield self._collect(self._busy.pop(conn))
                now = time.monotonic()
                for conn, worker in list(self._busy.items()):
                    if worker.deadline <= now:
                        del self._busy[conn]
                        yield self._expire(worker)
        finally:
            # Abandoned half-way (or an error here): the running tasks' results would never be
            # read, so stop their workers and start fresh ones.
            for worker in list(self._busy.values()):
                self._discard(worker, kill=True)
                if not self._closed:
                    self._idle.append(self._spawn())
            self._busy.clear()

    def _dispatch(self, task):
        key, kind, context, lang = task
        worker = self._idle.pop()
        worker.key = key
        worker.started = time.perf_counter()
        worker.deadline = time.monotonic() + self.timeout_s
        try:
            worker.conn.send((kind, context, lang))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            # The worker died while idle: replace it and say so for this task.
            self._discard(worker, kill=True)
            self._idle.append(self._spawn())
            return key, RenderResult(None, "worker process died before the task started", 0.0)
        except Exception as exc:  # noqa: BLE001 - e.g. a context that cannot be pickled
            # Pickling happens before anything is written: the worker is still in step.
            self._idle.append(worker)
            return key, RenderResult(None, f"cannot send the task to a worker: {_describe(exc)}",
                                     0.0)
        self._busy[worker.conn] = worker
        return None

    def _collect(self, worker: _Worker):
        seconds = time.perf_counter() - worker.started
        try:
            status, payload, _, retire = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            self._discard(worker, kill=True)
            self._idle.append(self._spawn())
            return worker.key, RenderResult(None, _death(worker.process.exitcode, self.memory_mb),
                                            seconds)
        if retire:
            self._discard(worker, kill=False)
            self._idle.append(self._spawn())
        else:
            self._idle.append(worker)
        if status == "ok":
            return worker.key, RenderResult(payload, None, seconds)
        return worker.key, RenderResult(None, payload, seconds)

    def _expire(self, worker: _Worker):
        seconds = time.perf_counter() - worker.started
        self._discard(worker, kill=True)
        self._idle.append(self._spawn())
        return worker.key, RenderResult(
            None, f"time limit exceeded: killed after {self.timeout_s:g} s", seconds)


def _death(exitcode, memory_mb) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        how = f"killed by {name}"
    else:
        how = f"exit code {exitcode}"
    hint = f"; memory limit {memory_mb} MiB" if memory_mb else ""
    return f"worker process died ({how}{hint})"


def render_one(kind: str, context: dict, lang: str, timeout_s: float = 60,
               memory_mb: int | None = 1024) -> bytes:
    """One report rendered in a worker process of its own; raises RenderFailed."""
    with RenderPool(1, timeout_s=timeout_s, memory_mb=memory_mb) as pool:
        for _, result in pool.render_many([(None, kind, context, lang)]):
            if result.error:
                raise RenderFailed(f"{kind} ({lang}): {result.error}")
            return result.pdf
    raise RenderFailed(f"{kind} ({lang}): no result")  # pragma: no cover

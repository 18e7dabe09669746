"""The render pool: a task past its time is killed, one past its memory fails, a broken one fails,
and each time only that task; the others finish and the pool goes on with fresh workers."""
import io
import os
import signal
import threading
import time

import pytest
from pypdf import PdfReader

from channel.core.money import format_fen
from reports import engine
from reports.pool import RenderFailed, RenderPool, render_one

from . import settlement_context

# Test kinds, pure template code: a busy loop that never ends in time, and an allocation past
# any memory limit given here. Registered before a pool starts, so its workers have them.
SLOW = "{% for i in range(n) %}{% endfor %}done"
GREEDY = "{{ ('x' * size)|length }} bytes"


@pytest.fixture
def kinds():
    saved = dict(engine.KINDS)
    engine.register("test_slow", "test_slow.html", source=SLOW)
    engine.register("test_greedy", "test_greedy.html", source=GREEDY)
    yield
    engine.install_kinds(saved)


def is_pdf(data):
    return data is not None and data.startswith(b"%PDF-")


def test_failures_stay_with_their_task(kinds):
    broken = settlement_context(2)
    del broken["lines"][1]["balance_fen"]
    tasks = [(f"ok{i}", "settlement", settlement_context(3, seed=i + 1), "zh_CN") for i in range(3)]
    tasks[1:1] = [
        ("slow", "test_slow", {"n": 10**12}, "en"),
        ("greedy", "test_greedy", {"size": 4 * 1024**3}, "en"),
        ("broken", "settlement", broken, "en"),
        ("unpicklable", "settlement", {**settlement_context(1), "x": lambda: None}, "en"),
        ("unknown", "nonesuch", {}, "en"),
    ]
    tasks.append(("ok-en", "settlement", settlement_context(3, seed=9), "en"))
    started = time.monotonic()
    with RenderPool(2, timeout_s=3, memory_mb=1024) as pool:
        before = set(pool.pids())
        results = dict(pool.render_many(tasks))
        after = set(pool.pids())
    assert time.monotonic() - started < 30
    assert set(results) == {key for key, *_ in tasks}

    for key in ("ok0", "ok1", "ok2", "ok-en"):
        assert results[key].error is None
        assert is_pdf(results[key].pdf)
        assert results[key].seconds > 0
    ok1 = dict((key, ctx) for key, _, ctx, _ in tasks)["ok1"]
    text = PdfReader(io.BytesIO(results["ok1"].pdf)).pages[0].extract_text()
    assert format_fen(ok1["closing_fen"]) in text

    assert results["slow"].pdf is None
    assert "time limit exceeded" in results["slow"].error
    assert 3 <= results["slow"].seconds < 10
    assert results["greedy"].pdf is None
    assert "memory limit exceeded (1024 MiB)" in results["greedy"].error
    assert "UndefinedError" in results["broken"].error
    assert "balance_fen" in results["broken"].error
    assert "settlement.html" in results["broken"].error
    assert "cannot send the task" in results["unpicklable"].error
    assert "unknown report kind" in results["unknown"].error
    # The timed-out and the over-limit workers were replaced, not reused.
    assert len(after) == 2
    assert len(before - after) == 2


def test_a_worker_killed_from_outside_fails_its_task_only(kinds):
    with RenderPool(1, timeout_s=30) as pool:
        pid = pool.pids()[0]
        threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
        key, result = next(pool.render_many([("slow", "test_slow", {"n": 10**12}, "en")]))
        assert "worker process died (killed by SIGKILL" in result.error
        assert pool.pids() != [pid]
        [(key, result)] = pool.render_many([("after", "settlement", settlement_context(1), "en")])
        assert key == "after" and is_pdf(result.pdf)


def test_the_memory_limit_is_only_a_limit(kinds):
    with RenderPool(1, timeout_s=30, memory_mb=None) as pool:
        [(_, result)] = pool.render_many([("big", "test_greedy", {"size": 64 * 1024**2}, "en")])
    assert result.error is None and is_pdf(result.pdf)
    assert "67108864 bytes" in PdfReader(io.BytesIO(result.pdf)).pages[0].extract_text()


def test_render_one(kinds):
    pdf = render_one("settlement", settlement_context(2), "en", timeout_s=30)
    assert is_pdf(pdf)
    with pytest.raises(RenderFailed, match="time limit exceeded"):
        render_one("test_slow", {"n": 10**12}, "en", timeout_s=1)


def test_spawned_workers_work_too():
    """The start method is a choice (benchmarks/reports.py compares them)."""
    with RenderPool(1, timeout_s=60, start_method="spawn") as pool:
        [(_, result)] = pool.render_many([(1, "settlement", settlement_context(2), "zh_CN")])
    assert result.error is None and is_pdf(result.pdf)


def test_abandoning_a_batch_stops_its_running_work(kinds):
    with RenderPool(2, timeout_s=60) as pool:
        before = set(pool.pids())
        results = pool.render_many([
            ("slow", "test_slow", {"n": 10**12}, "en"),
            ("first", "settlement", settlement_context(1), "en"),
        ])
        key, result = next(results)
        assert key == "first" and result.ok
        # The slow task is still running; closing the generator kills its worker at once.
        started = time.monotonic()
        results.close()
        assert time.monotonic() - started < 5
        after = set(pool.pids())
        assert len(after) == 2 and len(before & after) == 1

"""How fast the PDF report engine renders a settlement, against bare WeasyPrint in the same run.

    .venv/bin/python benchmarks/reports.py [--quick] [--batch 1000] [--repeat 15] [--no-chromium]

Single reports (zh_CN; a one-page statement of 9 documents and a 20-page one of 600):
- ours: `reports.engine.render_pdf` (Jinja, the per-process parsed stylesheet, the restricted
  fetcher, the shared FontConfiguration);
- bare: the same HTML as `render_html` gives it (stylesheet inline) through
  `weasyprint.HTML(string=html).write_pdf(font_config=shared)`: the floor the issue names;
- bare, new font config: the same with a FontConfiguration made for each document;
- bare, parsed CSS: WeasyPrint alone given the pre-parsed stylesheet, i.e. our render less Jinja:
  the tightest floor for this document;
- chromium: a persistent headless Chromium (playwright, /usr/bin/chromium) printing the same HTML
  to A4 PDF, as other products render; skipped if it cannot start.
The variants run interleaved, `--repeat` rounds, medians reported.

Batches: `--batch` distinct one-page settlements through `reports.pool.RenderPool` with 1 and 2
workers (fork server) and with 2 spawned workers. The pools are started and warmed first, then
take blocks of a tenth of the batch in turn, so that all see the same load on a shared machine;
beside the 2w/1w ratio the run measures two plain CPU-bound processes against one, the ceiling
at that moment. The start methods differ in starting (and replacing) workers: time from creating
a 2-worker pool to its first PDF. Peak memory is sampled from /proc (PSS, so pages shared
between the fork server and its workers count once) over the parent, the active pool's workers
and the fork server, with each worker's peak RSS.
`--quick`: 50-report batches and fewer rounds, for a fast look.
"""
import argparse
import io
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import weasyprint  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from reports import engine  # noqa: E402
from reports.pool import RenderPool  # noqa: E402
from tests.reports import settlement_context  # noqa: E402

ONE_PAGE_LINES = 9
TWENTY_PAGE_LINES = 600
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader  # the test extra

    return len(PdfReader(io.BytesIO(pdf)).pages)


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- single reports ----------------------------------------------------------------------------


class Chromium:
    """One headless Chromium kept running; each document is set as the page's content and
    printed. User data in a fresh temporary directory."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        self.profile = tempfile.mkdtemp(prefix="chromium-bench-")
        self.playwright = sync_playwright().start()
        self.context = self.playwright.chromium.launch_persistent_context(
            self.profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        )
        self.page = self.context.new_page()
        self.version = self.context.browser.version if self.context.browser else "?"

    def render(self, html: str) -> bytes:
        self.page.set_content(html, wait_until="load")
        return self.page.pdf(format="A4", prefer_css_page_size=True, print_background=True)

    def close(self):
        self.context.close()
        self.playwright.stop()
        shutil.rmtree(self.profile, ignore_errors=True)


def single(lines: int, repeat: int, chromium, lang="zh_CN"):
    context = settlement_context(lines)
    html = engine.render_html("settlement", context, lang)
    html_no_css = engine._template("settlement", lang).render(context, inline_css=False)
    shared = FontConfiguration()
    base_url = engine.ASSETS.as_uri() + "/"
    variants = {
        "ours (render_pdf)": lambda: engine.render_pdf("settlement", context, lang),
        "bare WeasyPrint": lambda: weasyprint.HTML(string=html).write_pdf(font_config=shared),
        "bare, new font config": lambda: weasyprint.HTML(string=html).write_pdf(),
        "bare, parsed CSS": lambda: weasyprint.HTML(
            string=html_no_css, base_url=base_url, url_fetcher=engine.AssetFetcher(),
        ).write_pdf(stylesheets=[engine.stylesheet()], font_config=shared),
    }
    if chromium is not None:
        variants["chromium (persistent)"] = lambda: chromium.render(html)
    times = {name: [] for name in variants}
    pages = {}
    for name, run in variants.items():  # warm up: first render per process builds caches
        pages[name] = page_count(run())
    names = list(variants)
    for r in range(repeat):
        for name in names[r % len(names):] + names[:r % len(names)]:
            started = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(t), min(t), pages[name]) for name, t in times.items()}


# --- batches -------------------------------------------------------------------------------------


def _pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _forkserver_pid():
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)


class MemorySampler(threading.Thread):
    """Peak PSS of the parent, the active pool's workers and (for a fork-server pool) the fork
    server, kept per pool."""

    def __init__(self, interval=0.2):
        super().__init__(daemon=True)
        self.interval = interval
        self.active = None
        self.peaks = {}
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.interval):
            pool = self.active
            if pool is None:
                continue
            try:
                pids = [os.getpid(), *pool.pids()]
            except RuntimeError:  # the pool's lists changed under us: next time
                continue
            if pool.start_method == "forkserver" and _forkserver_pid():
                pids.append(_forkserver_pid())
            total = sum(_pss_kib(pid) for pid in pids)
            self.peaks[id(pool)] = max(self.peaks.get(id(pool), 0), total)


def _spin(n):
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - started


def machine_scaling(n=8_000_000) -> float:
    """Throughput of two CPU-bound processes over one, right now: the ceiling for 2w/1w on a
    shared machine."""
    one = _spin(n)
    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        started = time.perf_counter()
        pool.map(_spin, [n, n])
        two = time.perf_counter() - started
    return 2 * one / two


def cold_start(method: str, lang="zh_CN") -> float:
    """Seconds from creating a 2-worker pool to its first PDF."""
    started = time.perf_counter()
    with RenderPool(2, start_method=method) as pool:
        list(pool.render_many([(0, "settlement", settlement_context(ONE_PAGE_LINES), lang)]))
        return time.perf_counter() - started


def interleaved(n: int, configs, blocks=10, lang="zh_CN"):
    """n one-page settlements through each (workers, method) pool, in blocks taken in turn so
    that every pool sees the same machine (the load of a shared machine drifts)."""
    contexts = [settlement_context(ONE_PAGE_LINES, seed=i + 1) for i in range(n)]
    pools = [RenderPool(w, timeout_s=60, memory_mb=1024, start_method=m) for w, m in configs]
    sampler = MemorySampler()
    sampler.start()
    stats = [{"seconds": 0.0, "failed": 0, "sample": None} for _ in pools]
    try:
        for pool in pools:  # warm: workers started and past their first report
            pool.start()
            list(pool.render_many((k, "settlement", contexts[k], lang)
                                  for k in range(pool.workers)))
        size = max(1, n // blocks)
        for first in range(0, n, size):
            for pool, stat in zip(pools, stats):
                sampler.active = pool
                started = time.perf_counter()
                for _, result in pool.render_many(
                        (k, "settlement", contexts[k], lang)
                        for k in range(first, min(n, first + size))):
                    if result.error:
                        stat["failed"] += 1
                    elif stat["sample"] is None:
                        stat["sample"] = result.pdf
                stat["seconds"] += time.perf_counter() - started
                sampler.active = None
        for pool, stat in zip(pools, stats):
            stat["worker_peak_rss_mib"] = [round(_status_kib(pid, "VmHWM") / 1024)
                                           for pid in pool.pids()]
    finally:
        sampler.stopped.set()
        sampler.join()
        for pool in pools:
            pool.close()
    for (workers, method), pool, stat in zip(configs, pools, stats):
        stat.update(workers=workers, method=method, n=n, docs_per_s=n / stat["seconds"],
                    pages=page_count(stat.pop("sample")) if stat["sample"] else 0,
                    peak_pss_mib=sampler.peaks.get(id(pool), 0) / 1024)
    return stats


def singles(repeat, with_chromium):
    chromium = None
    if with_chromium:
        try:
            chromium = Chromium()
            print(f"Chromium {chromium.version} (persistent, headless)")
        except Exception as exc:  # noqa: BLE001 - optional comparison
            print(f"chromium skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")

    print()
    print(f"single settlement, zh_CN, median of {repeat} rounds (min in brackets); load {load()}")
    print(f"{'variant':26} {'pages':>5} {'1 page ms':>16} {'pages':>5} {'20 pages ms':>18}")
    try:
        one = single(ONE_PAGE_LINES, repeat, chromium)
        twenty = single(TWENTY_PAGE_LINES, max(3, repeat // 5), chromium)
    finally:
        if chromium is not None:
            chromium.close()
    for name in one:
        (m1, n1, p1), (m20, n20, p20) = one[name], twenty[name]
        print(f"{name:26} {p1:5d} {m1 * 1000:8.1f} ({n1 * 1000:5.1f}) "
              f"{p20:5d} {m20 * 1000:9.1f} ({n20 * 1000:6.1f})")
    for floor in ("bare WeasyPrint", "bare, parsed CSS"):
        o1 = (one["ours (render_pdf)"][0] / one[floor][0] - 1) * 100
        o20 = (twenty["ours (render_pdf)"][0] / twenty[floor][0] - 1) * 100
        print(f"overhead of ours over {floor}: 1 page {o1:+.1f}%, 20 pages {o20:+.1f}%")
    print(f"load average after: {load()}")
    if "chromium (persistent)" in one:
        print("ours / chromium, 1 page: "
              f"{one['ours (render_pdf)'][0] / one['chromium (persistent)'][0]:.2f}")


def batches(n, with_spawn):
    print()
    print(f"batch of {n} one-page settlements through RenderPool; load {load()}")
    # Start the fork server (and its preloaded engine) before timing, as a long-lived scheduler
    # process would have it.
    with RenderPool(1) as pool:
        list(pool.render_many([(0, "settlement", settlement_context(1), "zh_CN")]))
    methods = ["forkserver"] + (["spawn"] if with_spawn else [])
    starts = {m: statistics.median(cold_start(m) for _ in range(3)) for m in methods}
    ceiling = [machine_scaling()]
    configs = [(1, "forkserver"), (2, "forkserver")] + ([(2, "spawn")] if with_spawn else [])
    runs = interleaved(n, configs)
    ceiling.append(machine_scaling())
    print(f"{'workers':>7} {'start':10} {'seconds':>8} {'docs/s':>7} {'failed':>6} {'pages':>5} "
          f"{'peak PSS MiB':>12}  worker peak RSS MiB")
    for r in runs:
        print(f"{r['workers']:7d} {r['method']:10} {r['seconds']:8.1f} {r['docs_per_s']:7.2f} "
              f"{r['failed']:6d} {r['pages']:5d} {r['peak_pss_mib']:12.0f}  "
              f"{r['worker_peak_rss_mib']}")
    rate = [r["docs_per_s"] for r in runs]
    print(f"2 workers / 1 worker (fork server): {rate[1] / rate[0]:.2f}x; "
          f"two plain CPU-bound processes / one, before and after: "
          f"{ceiling[0]:.2f}x, {ceiling[1]:.2f}x")
    for method in methods:
        r = next(r for r in runs if r["workers"] == 2 and r["method"] == method)
        print(f"{method:10} 2 workers: {starts[method]:.2f} s from start to first PDF; "
              f"{n} reports in {starts[method] + r['seconds']:.1f} s with the start")
    print(f"parent peak RSS {_status_kib(os.getpid(), 'VmHWM') / 1024:.0f} MiB; load {load()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50-report batches, fewer rounds")
    parser.add_argument("--batch", type=int, help="reports per batch (default 1000; quick 50)")
    parser.add_argument("--repeat", type=int, help="rounds for the single reports (default 15)")
    parser.add_argument("--no-chromium", action="store_true")
    parser.add_argument("--no-spawn", action="store_true", help="skip the spawned-workers batch")
    parser.add_argument("--only", choices=["single", "batch"], help="run one half only")
    args = parser.parse_args()
    n = args.batch or (50 if args.quick else 1000)
    repeat = args.repeat or (5 if args.quick else 15)

    print(f"WeasyPrint {weasyprint.__version__}; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs; engine fingerprint {engine.fingerprint('settlement')[:12]}")
    if args.only != "batch":
        singles(repeat, not args.no_chromium)
    if args.only != "single":
        batches(n, not args.no_spawn)


if __name__ == "__main__":
    multiprocessing.set_start_method("forkserver", force=True)
    main()

"""How fast the foundation's pages render, against a trivial endpoint in the same process and run.

    .venv/bin/python benchmarks/pages.py [--seconds 2] [--database-url URL]

Builds the demo company in a temporary SQLite file (or uses --database-url, which must be empty
or hold only the demo data), then times each page through the WSGI test client: no network, so
the figures are the app's own cost (routing, session, scoping queries, templates). The ratio to
the trivial endpoint is the figure to compare between runs; the absolute numbers depend on the
machine and its load.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_migrate import upgrade  # noqa: E402

from channel import create_app  # noqa: E402
from channel.demo import load_demo  # noqa: E402
from config import TestingConfig  # noqa: E402

PAGES = [  # (who, url)
    (None, "/trivial"),
    (None, "/login"),
    ("sup.north", "/dashboard"),
    ("admin", "/dashboard"),
    ("finance", "/accounts"),
    ("finance", "/accounts?q=北京"),
    ("dist.bj", "/accounts"),
    ("sup.north", "/accounts/1"),
    ("finance", "/products"),
    ("admin", "/admin/audit"),
    ("finance", "/accounts?format=csv"),
    ("finance", "/accounts?format=xlsx"),
]


def measure(client, url, seconds):
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 20:
        t0 = time.perf_counter()
        resp = client.get(url, headers={"Accept-Language": "zh-CN"})
        resp.get_data()
        times.append(time.perf_counter() - t0)
        assert resp.status_code in (200, 302), (url, resp.status_code)
    times.sort()
    return {
        "n": len(times),
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
        "rps": len(times) / sum(times),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, DATABASE_URL=url,
                     PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", WTF_CSRF_ENABLED=False)
    app.add_url_rule("/trivial", "trivial", lambda: "ok")
    with app.app_context():
        upgrade()
        load_demo(with_history=False)
    clients = {}
    for who, _ in PAGES:
        if who and who not in clients:
            c = app.test_client()
            assert c.post("/login", data={"username": who, "password": "channel-demo"}).status_code == 302
            clients[who] = c
    anon = app.test_client()
    print(f"database: {url.split('://')[0]}; {args.seconds}s per page; Python {sys.version.split()[0]}")
    print(f"{'who':10} {'page':28} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'req/s':>8} {'x trivial':>10}")
    base = None
    for who, page in PAGES:
        r = measure(clients.get(who, anon), page, args.seconds)
        base = base or r["rps"]
        print(f"{who or '-':10} {page:28} {r['n']:6d} {r['median_ms']:10.2f} {r['p95_ms']:8.2f} "
              f"{r['rps']:8.0f} {r['rps'] / base:10.3f}")


if __name__ == "__main__":
    main()

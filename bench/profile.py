"""Where a page spends its time: each key page of the load benchmark requested in-process (no server, no network)
against a bench database, signed in as the bench manager, with the time per request split into SQL and the rest,
the number of queries and the size of the answer. "cpu ms" is the CPU time this process spent on a request (every
thread): unlike the wall time, it does not grow when other processes share the machine. `--profile NAME` samples that page with
py-spy (every thread, since sync handlers run in a pool) and prints where its time goes.

    .venv/bin/python bench/profile.py                                   # every page, var/bench-large.db
    .venv/bin/python bench/profile.py --only "risk register" --profile "risk register"
    .venv/bin/python bench/profile.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_large

The data set comes from `tracker bench-data --scale large` (bench/load.py builds it when missing)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import CEILINGS, ENDPOINTS, PASSWORD, placeholders  # noqa: E402

from tracker.app import create_app  # noqa: E402
from tracker.core import db as dbmod  # noqa: E402
from tracker.core import memo  # noqa: E402
from tracker.settings import Settings  # noqa: E402


def spy(client: TestClient, url: str, seconds: float) -> str:
    """Request the page for some seconds while py-spy samples this process; the frames that hold the most time,
    inclusive (a frame counted once per sample however deep it recurs) and exclusive."""
    out = Path(tempfile.mkstemp(suffix=".txt")[1])
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(os.getpid()),
            "--duration",
            str(int(seconds)),
            "--rate",
            "500",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    while spy.poll() is None:
        client.get(url)
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if "(" in f]
        busy = [f for f in frames if not re.search(r"\((threading|selectors|queue|concurrent)", f)]
        if not frames or re.match(r"(\w+\.)?(wait|_worker|select) \((threading|concurrent|selectors)", frames[-1]):
            continue
        total += int(count)
        exclusive[frames[-1]] += int(count)
        for frame in set(busy):
            inclusive[frame] += int(count)
    out.unlink()
    lines = [f"{total} busy samples; inclusive share, our code and templates:"]
    ours = [(f, n) for f, n in inclusive.most_common() if "tracker/" in f or ".html" in f]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in ours[:40]]
    lines.append("exclusive share, top frames:")
    lines += [f"  {n / total:6.1%}  {f}" for f, n in exclusive.most_common(30)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench-large.db'}")
    parser.add_argument("--user", default="bench-manager")
    parser.add_argument("--repeat", type=int, default=10, help="requests per page after one warm-up")
    parser.add_argument("--only", action="append", help="endpoint name (repeatable)")
    parser.add_argument("--profile", help="endpoint name to sample with py-spy (every thread: handlers run in a pool)")
    parser.add_argument("--seconds", type=float, default=5, help="how long to sample the profiled page")
    parser.add_argument("--cold", action="store_true", help="compute every figure each time (the memo off)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/growth.py reads it)")
    args = parser.parse_args()
    memo.enabled = not args.cold
    found: dict[str, dict[str, float]] = {}

    logging.getLogger("httpx").setLevel(logging.WARNING)
    engine = dbmod.make_engine(args.database_url)
    sql = {"n": 0, "s": 0.0}

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, *_a) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn, *_a) -> None:
        sql["n"] += 1
        sql["s"] += time.perf_counter() - conn.info.pop("t0")

    settings = Settings(  # as bench/load.py serves it: production, with the minimal page to compare with
        env="prod",
        secret_key=secrets.token_urlsafe(40),
        secure_cookies=False,
        bench_routes=True,
        database_url=args.database_url,
    )
    app = create_app(settings, dbmod.session_factory_for(engine))
    fill = placeholders(args.database_url)
    with TestClient(app, base_url="http://testserver") as client:
        page = client.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
        answer = client.post(
            "/login", data={"username": args.user, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
        )
        if answer.status_code != 303:
            raise SystemExit(f"signing in failed ({answer.status_code})")
        print(f"{'endpoint':40} {'median ms':>9} {'cpu ms':>7} {'sql ms':>7} {'queries':>7} {'kB':>6}")
        for name, path in ((e.name, e.path) for e in CEILINGS + ENDPOINTS):
            if args.only and name not in args.only and name != args.profile:
                continue
            url = path.format(**fill)
            if client.get(url).status_code != 200:
                raise SystemExit(f"{url} did not answer 200")
            times, cpus, sqls, counts, size = [], [], [], [], 0
            for _ in range(args.repeat):
                sql.update(n=0, s=0.0)
                t0, c0 = time.perf_counter(), time.process_time()
                answer = client.get(url)
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                sqls.append(sql["s"])
                counts.append(sql["n"])
                size = len(answer.content)
            found[name] = {
                "ms": statistics.median(times) * 1000,
                "cpu_ms": statistics.median(cpus) * 1000,
                "sql_ms": statistics.median(sqls) * 1000,
                "queries": max(counts),
                "kb": size / 1024,
            }
            f = found[name]
            print(
                f"{name:40} {f['ms']:9.1f} {f['cpu_ms']:7.1f} {f['sql_ms']:7.1f} {f['queries']:7d} {f['kb']:6.0f}",
                flush=True,
            )
            if name == args.profile:
                print(spy(client, url, args.seconds))
    if args.json:
        args.json.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()

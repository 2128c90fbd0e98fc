"""Load benchmark: serve the app the way the README deploys it (`tracker serve`, uvicorn, one worker per core),
drive every key page and API endpoint with wrk at 8 concurrent connections, and print one table — requests/s,
median, p95 and p99 latency, errors, peak RSS of the workers — with each figure also as a ratio to two ceilings
measured in the same run: the plain `/healthz` route and the minimal signed-in page (`/bench/minimal`, the whole
middleware stack and the base layout with one trivial query). The table is written to bench/results/.

    .venv/bin/python bench/load.py --scale large                      # SQLite, var/bench-large.db
    .venv/bin/python bench/load.py --scale small --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_small

The database is generated with `tracker bench-data` when it holds no bench data yet. wrk comes from Debian's
package (installed when missing)."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "latency.lua"
PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-password")

# (name, path, p95 target in ms). {key}, {deliverable}, {saved} are filled from the data. Paged lists are marked
# so the small/large comparison knows which rows to hold to "cost grows with the page, not the table".
CEILINGS = [("hello (/healthz)", "/healthz", None), ("minimal signed-in page", "/bench/minimal", None)]
ENDPOINTS = [
    ("my work", "/", 50),
    ("project overview", "/projects/{key}", 150),  # the live draft's figures: as heavy as the draft report
    ("deliverables list, filtered + sorted", "/projects/{key}/deliverables?status=in_review&sort=-due", 50),
    ("deliverables list, page 50", "/projects/{key}/deliverables?sort=due&page=50", 50),
    ("deliverable page", "/projects/{key}/deliverables/{deliverable}", 50),
    ("risk register", "/projects/{key}/risks", 50),
    ("heat map", "/projects/{key}/risks/heat-map", 50),
    ("issue list", "/projects/{key}/issues", 50),
    ("draft status report", "/projects/{key}/status-reports/draft", 150),
    ("portfolio", "/portfolio", 150),
    ("deliverables timeline", "/projects/{key}/timeline", 150),
    ("portfolio timeline", "/portfolio/timeline", 250),
    ("scorecard", "/projects/{key}/scorecard", 50),
    ("trends", "/projects/{key}/trends", 150),
    ("portfolio PDF", "/portfolio.pdf", 1500),
    ("portfolio XLSX", "/portfolio.xlsx", 300),
    ("comment burndown", "/projects/{key}/deliverables/{deliverable}/burndown", 50),
    ("scorecard XLSX", "/projects/{key}/scorecard/scorecard.xlsx", 150),
    ("reported service levels", "/projects/{key}/scorecard/reported", 50),
    ("API service levels", "/api/v1/projects/{key}/service-levels", 50),
    ("saved report run", "/projects/{key}/saved-reports/{saved}", 50),
    ("deliverables export, filtered (XLSX)", "/projects/{key}/deliverables/export.xlsx?status=in_review", 500),
    ("holdback ledger (XLSX)", "/projects/{key}/holdback/ledger.xlsx", 500),
    ("API deliverables list", "/api/v1/projects/{key}/deliverables", 50),
    ("API risks list", "/api/v1/projects/{key}/risks", 50),
    ("API issues list", "/api/v1/projects/{key}/issues", 50),
    ("API portfolio", "/api/v1/portfolio", 150),
    ("search, a common word", "/search?q=conversion", 150),  # ranks every match: thousands at large scale
    ("search, three words", "/search?q=interface+error+handl", 50),
    ("API search", "/api/v1/search?q=conversion", 150),
]
PAGED = {
    "deliverables list, filtered + sorted",
    "risk register",
    "issue list",
    "API deliverables list",
    "API risks list",
    "API issues list",
    "saved report run",
}


@dataclass
class Result:
    name: str
    path: str
    target_ms: int | None
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    peak_rss_mb: float
    ratio_hello: float = 0.0
    ratio_minimal: float = 0.0
    verdicts: list[str] = field(default_factory=list)


# --- the server -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """Every descendant process of `pid` (uvicorn's workers are its children)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            out += [kid, *children(kid)]
    return out


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Server:
    """`tracker serve --workers N` in its own process group, as in production (TRACKER_ENV=prod)."""

    def __init__(self, database_url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "DATABASE_URL": database_url,
            "TRACKER_ENV": "prod",
            "TRACKER_SECRET_KEY": secrets.token_urlsafe(40),
            "TRACKER_BENCH_ROUTES": "1",
            "TRACKER_DISPATCH_SECONDS": "0",
            "TRACKER_PORT": str(self.port),
            "TRACKER_SECURE_COOKIES": "false",  # wrk and httpx talk plain HTTP to 127.0.0.1
            "TRACKER_WORKERS": str(workers),
        }
        self.proc = subprocess.Popen(
            [str(BIN / "tracker"), "serve"], env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200 and len(self.workers()) >= workers:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("the server exited while starting")
            time.sleep(0.3)
        self.stop()
        raise SystemExit("the server did not start within 60 s")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


class RssSampler:
    """The highest resident size of any worker while a block runs (sampled every 100 ms)."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self._stop = server, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max([self.peak, *(rss_mb(p) for p in self.server.workers())])

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# --- data and sign-in -------------------------------------------------------------------------------------


def ensure_data(database_url: str, scale: str) -> None:
    env = os.environ | {"DATABASE_URL": database_url}
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    elif url.get_backend_name() == "postgresql":
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    subprocess.run([str(BIN / "tracker"), "migrate"], env=env, cwd=ROOT, check=True)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        has_data = conn.execute(text("SELECT count(*) FROM app_user WHERE username = 'bench-manager'")).scalar_one()
    engine.dispose()
    if not has_data:
        print(f"Generating the {scale} data set (tracker bench-data --scale {scale}) …", flush=True)
        subprocess.run([str(BIN / "tracker"), "bench-data", "--scale", scale], env=env, cwd=ROOT, check=True)


def placeholders(database_url: str) -> dict[str, str]:
    """The largest project, its most-discussed deliverable and a saved report shared in it."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        key, project_id = conn.execute(
            text(
                "SELECT p.key, p.id FROM project p JOIN deliverable d ON d.project_id = p.id "
                "GROUP BY p.id, p.key ORDER BY count(*) DESC, p.id LIMIT 1"
            )
        ).one()
        deliverable = conn.execute(
            text(
                "SELECT s.deliverable_id FROM comment c JOIN submission s ON s.id = c.submission_id "
                "JOIN deliverable d ON d.id = s.deliverable_id WHERE d.project_id = :p "
                "GROUP BY s.deliverable_id ORDER BY count(*) DESC, s.deliverable_id LIMIT 1"
            ),
            {"p": project_id},
        ).scalar_one()
        saved = conn.execute(
            text("SELECT id FROM saved_report WHERE project_id = :p AND shared ORDER BY id LIMIT 1"), {"p": project_id}
        ).scalar_one()
    engine.dispose()
    return {"key": key, "deliverable": str(deliverable), "saved": str(saved)}


def sign_in(base: str, username: str) -> str:
    """The Cookie header of a signed-in browser session."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        page = client.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit("no CSRF token on the login page")
        answer = client.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": token[1]})
        if answer.status_code != 303:
            raise SystemExit(f"signing in as {username} failed ({answer.status_code})")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


# --- measuring --------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        subprocess.run(
            "(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk",
            shell=True,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return shutil.which("wrk") or "wrk"


def wrk(binary: str, url: str, cookie: str, connections: int, seconds: float) -> dict[str, int]:
    cmd = [
        binary,
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH "))
    return json.loads(line[len("BENCH ") :])


def measure(
    server: Server, binary: str, name: str, path: str, target: int | None, cookie: str, args: argparse.Namespace
) -> Result:
    check = httpx.get(server.base + path, headers={"Cookie": cookie}, timeout=60)
    if check.status_code != 200:
        raise SystemExit(f"{name}: {path} answered {check.status_code}, not 200; fix the data or the route first")
    wrk(binary, server.base + path, cookie, args.connections, args.warmup)
    with RssSampler(server) as rss:
        r = wrk(binary, server.base + path, cookie, args.connections, args.duration)
    errors = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return Result(
        name=name,
        path=path,
        target_ms=target,
        rps=r["requests"] / (r["duration_us"] / 1e6),
        p50_ms=r["p50"] / 1000,
        p95_ms=r["p95"] / 1000,
        p99_ms=r["p99"] / 1000,
        errors=errors,
        peak_rss_mb=rss.peak,
    )


def judge(results: list[Result]) -> None:
    hello, minimal = results[0].rps, results[1].rps
    for r in results:
        r.ratio_hello, r.ratio_minimal = r.rps / hello, r.rps / minimal
        if r.target_ms is None:
            continue
        r.verdicts.append("p95 ok" if r.p95_ms < r.target_ms else f"p95 > {r.target_ms} ms")
        r.verdicts.append("rps ok" if r.ratio_minimal >= 0.5 else "rps < 50% of minimal")
        if r.errors:
            r.verdicts.append("errors")
        if r.peak_rss_mb >= 200:
            r.verdicts.append("RSS >= 200 MB")


def table(results: list[Result], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB | × hello | × minimal | target p95 | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{r.peak_rss_mb:.0f} | {r.ratio_hello:.2f} | {r.ratio_minimal:.2f} | "
            f"{r.target_ms or '—'} | {', '.join(r.verdicts) or '—'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["small", "large"], default="large")
    parser.add_argument("--database-url", help="default: sqlite:///var/bench-<scale>.db")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="uvicorn workers (default: cores)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent users (default 8)")
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per endpoint (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per endpoint (default 2)")
    parser.add_argument("--user", default="bench-manager")
    parser.add_argument("--only", help="measure only endpoints whose name contains this (the ceilings always run)")
    args = parser.parse_args()
    database_url = args.database_url or f"sqlite:///{ROOT / 'var' / f'bench-{args.scale}.db'}"
    backend = make_url(database_url).get_backend_name()

    binary = ensure_wrk()
    ensure_data(database_url, args.scale)
    values = placeholders(database_url)
    server = Server(database_url, args.workers)
    try:
        cookie = sign_in(server.base, args.user)
        chosen = [e for e in ENDPOINTS if not args.only or args.only in e[0]]
        results = []
        for name, path, target in CEILINGS + chosen:
            results.append(measure(server, binary, name, path.format(**values), target, cookie, args))
            print(f"  {name}: {results[-1].rps:.0f} req/s, p95 {results[-1].p95_ms:.1f} ms", flush=True)
        peak = {pid: rss_mb(pid, "VmHWM") for pid in server.workers()}
    finally:
        server.stop()
    judge(results)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = (
        f"{backend}, {args.scale} data set, {args.workers} workers, {args.connections} connections, "
        f"{args.duration:g} s per endpoint — {stamp}"
    )
    report = table(results, title) + (
        f"\nPeak RSS per worker over the whole run (VmHWM): {', '.join(f'{v:.0f} MB' for v in peak.values())}\n"
    )
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # A partial run (--only) never overwrites the full table.
    base = RESULTS / (
        f"{backend}-{args.scale}" + (f"-only-{re.sub(r'[^a-z0-9]+', '-', args.only.lower())}" if args.only else "")
    )
    base.with_suffix(".md").write_text(report)
    base.with_suffix(".json").write_text(
        json.dumps(
            {"title": title, "placeholders": values, "peak_rss_mb": peak, "results": [asdict(r) for r in results]},
            indent=2,
        )
    )
    print(f"Written to {base.with_suffix('.md').relative_to(ROOT)} and .json")


if __name__ == "__main__":
    main()

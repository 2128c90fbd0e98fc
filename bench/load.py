"""Load benchmark: serve the app the way the README deploys it (`tracker serve`, uvicorn, one worker per core),
drive every key page and API endpoint with wrk at 16 concurrent connections, and print one table — requests/s,
median, p95 and p99 latency, errors, peak RSS of the workers — with each figure also as a ratio to two ceilings
measured in the same run: the plain `/healthz` route and the minimal signed-in page (`/bench/minimal`, the whole
middleware stack and the base layout with one trivial query). Every endpoint is measured in several rounds that
interleave them (a slow minute of the machine then falls on all alike), and each figure is the median of its rounds.
Each row is judged by issue 19's targets (Endpoint: the share of the minimal page, p99, no errors, RSS per worker).
With --servers 2, two independent `tracker serve` processes on their own ports share the database; one sign-in is
used on both, every endpoint is driven on both at once, and their requests/s add up. The table is written to
bench/results/.

    .venv/bin/python bench/load.py --scale large                      # SQLite, var/bench-large.db
    .venv/bin/python bench/load.py --scale small --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_small
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_large --servers 2
    .venv/bin/python bench/load.py --scale huge --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_huge

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
import statistics
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

LIST, KEY = 0.5, 0.25  # the share of the minimal page's requests/s a page must reach (issue 19's targets)
P99_MS = 100  # every key page's 99th percentile, under load
RSS_MB = 150  # each worker's peak resident size over the whole run


@dataclass(frozen=True)
class Endpoint:
    """A page or API endpoint measured, and what it must reach: `share` of the minimal page's requests/s (None: an
    export, judged by its p99 alone) and its p99 in ms. {key}, {deliverable}, {saved}, {issue}, {risk} are filled
    from the data. `paged`: a list whose cost must grow with the page, not the table."""

    name: str
    path: str
    share: float | None = KEY
    p99_ms: int = P99_MS
    paged: bool = False


CEILINGS = [Endpoint("hello (/healthz)", "/healthz", None), Endpoint("minimal signed-in page", "/bench/minimal", None)]
ENDPOINTS = [
    Endpoint("my work", "/"),
    Endpoint("project overview", "/projects/{key}"),
    Endpoint(
        "deliverables list, filtered + sorted",
        "/projects/{key}/deliverables?status=in_review&sort=-due",
        LIST,
        paged=True,
    ),
    Endpoint("deliverables list, page 50", "/projects/{key}/deliverables?sort=due&page=50", LIST),
    Endpoint("deliverable page", "/projects/{key}/deliverables/{deliverable}"),
    Endpoint("risk register", "/projects/{key}/risks", paged=True),
    Endpoint("risk page", "/projects/{key}/risks/{risk}", LIST),
    Endpoint("heat map", "/projects/{key}/risks/heat-map"),
    Endpoint("issue list", "/projects/{key}/issues", LIST, paged=True),
    Endpoint("issue list, filtered", "/projects/{key}/issues?status=open&priority=high", LIST, paged=True),
    Endpoint("issue page", "/projects/{key}/issues/{issue}", LIST),
    Endpoint("draft status report", "/projects/{key}/status-reports/draft"),
    Endpoint("portfolio", "/portfolio"),
    Endpoint("deliverables timeline", "/projects/{key}/timeline"),
    Endpoint("portfolio timeline", "/portfolio/timeline"),
    Endpoint("scorecard", "/projects/{key}/scorecard"),
    Endpoint("trends", "/projects/{key}/trends"),
    Endpoint("comment burndown", "/projects/{key}/deliverables/{deliverable}/burndown"),
    Endpoint("reported service levels", "/projects/{key}/scorecard/reported"),
    Endpoint("saved report run", "/projects/{key}/saved-reports/{saved}", paged=True),
    Endpoint("lessons, every project", "/lessons", paged=True),
    Endpoint("API deliverables list", "/api/v1/projects/{key}/deliverables", LIST, paged=True),
    Endpoint("API risks list", "/api/v1/projects/{key}/risks", LIST, paged=True),
    Endpoint("API issues list", "/api/v1/projects/{key}/issues", LIST, paged=True),
    Endpoint("API service levels", "/api/v1/projects/{key}/service-levels", LIST),
    Endpoint("API portfolio", "/api/v1/portfolio"),
    Endpoint("search, a common word", "/search?q=conversion"),  # ranks every match: thousands at large scale
    Endpoint("search, three words", "/search?q=interface+error+handl"),
    Endpoint("API search", "/api/v1/search?q=conversion"),
    # Files people download: judged by their time alone.
    Endpoint("portfolio PDF", "/portfolio.pdf", None, 1500),
    Endpoint("portfolio XLSX", "/portfolio.xlsx", None, 1000),
    Endpoint("scorecard XLSX", "/projects/{key}/scorecard/scorecard.xlsx", None, 500),
    Endpoint(
        "deliverables export, filtered (XLSX)", "/projects/{key}/deliverables/export.xlsx?status=in_review", None, 1500
    ),
    Endpoint("holdback ledger (XLSX)", "/projects/{key}/holdback/ledger.xlsx", None, 1500),
]
PAGED = {e.name for e in ENDPOINTS if e.paged}


@dataclass
class Result:
    name: str
    path: str
    share: float | None
    p99_target_ms: int
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

    def __init__(self, database_url: str, workers: int, secret: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "DATABASE_URL": database_url,
            "TRACKER_ENV": "prod",
            "TRACKER_SECRET_KEY": secret,  # the same on every server, as in a deployment: one sign-in works on all
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

    def __init__(self, servers: list[Server]) -> None:
        self.servers, self.peak, self._stop = servers, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max([self.peak, *(rss_mb(p) for server in self.servers for p in server.workers())])

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
        # The open risk and issue with the longest history: the fullest record pages.
        record = {}
        for table in ("risk", "issue"):
            record[table] = conn.execute(
                text(
                    f"SELECT r.id FROM {table} r JOIN audit_event a ON a.entity_type = :t AND a.entity_id = r.id "
                    "WHERE r.project_id = :p AND r.status = 'open' GROUP BY r.id ORDER BY count(*) DESC, r.id LIMIT 1"
                ),
                {"p": project_id, "t": table},
            ).scalar_one()
    engine.dispose()
    return {
        "key": key,
        "deliverable": str(deliverable),
        "saved": str(saved),
        "risk": str(record["risk"]),
        "issue": str(record["issue"]),
    }


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
        f"{max(1, round(seconds))}s",  # wrk takes whole seconds
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


def measure(servers: list[Server], binary: str, e: Endpoint, values: dict[str, str], cookie: str, args) -> Result:
    """One endpoint on every server at once (each with its own wrk and `connections`): the requests/s add up, the
    latencies are the slowest server's."""
    path = e.path.format(**values)
    for server in servers:  # one sign-in serves every server: sessions live in the cookie
        check = httpx.get(server.base + path, headers={"Cookie": cookie}, timeout=60)
        if check.status_code != 200:
            raise SystemExit(f"{e.name}: {path} answered {check.status_code} on {server.base}; fix the data or route")

    def run_all(seconds: float) -> list[dict[str, int]]:
        out: list[dict[str, int]] = [{} for _ in servers]

        def one(n: int) -> None:
            out[n] = wrk(binary, servers[n].base + path, cookie, args.connections, seconds)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(len(servers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    run_all(args.warmup)
    with RssSampler(servers) as rss:
        runs = run_all(args.duration)
    kinds = ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    return Result(
        name=e.name,
        path=path,
        share=e.share,
        p99_target_ms=e.p99_ms,
        rps=sum(r["requests"] / (r["duration_us"] / 1e6) for r in runs),
        p50_ms=max(r["p50"] for r in runs) / 1000,
        p95_ms=max(r["p95"] for r in runs) / 1000,
        p99_ms=max(r["p99"] for r in runs) / 1000,
        errors=sum(r[k] for r in runs for k in kinds),
        peak_rss_mb=rss.peak,
    )


def median_of(rounds: list[Result]) -> Result:
    """An endpoint's figures over the rounds: each the median (the rounds interleave the endpoints, so a slow
    minute of the machine falls on every endpoint alike instead of on whichever ran then); errors summed, RSS max."""
    first = rounds[0]
    return Result(
        name=first.name,
        path=first.path,
        share=first.share,
        p99_target_ms=first.p99_target_ms,
        rps=statistics.median(r.rps for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p95_ms=statistics.median(r.p95_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        errors=sum(r.errors for r in rounds),
        peak_rss_mb=max(r.peak_rss_mb for r in rounds),
    )


def judge(results: list[Result]) -> None:
    """Issue 19's targets: the share of the minimal page's requests/s, the p99, no errors, RSS per worker."""
    hello, minimal = results[0].rps, results[1].rps
    for r in results[2:]:
        r.ratio_hello, r.ratio_minimal = r.rps / hello, r.rps / minimal
        if r.share is not None and r.ratio_minimal < r.share:
            r.verdicts.append(f"rps < {r.share:.0%} of minimal")
        if r.p99_ms > r.p99_target_ms:
            r.verdicts.append(f"p99 > {r.p99_target_ms} ms")
        if r.errors:
            r.verdicts.append("errors")
        if r.peak_rss_mb > RSS_MB:
            r.verdicts.append(f"RSS > {RSS_MB} MB")
    results[0].ratio_hello, results[0].ratio_minimal = 1.0, hello / minimal
    results[1].ratio_hello, results[1].ratio_minimal = minimal / hello, 1.0


def table(results: list[Result], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB | × hello | × minimal | target | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        target = (
            "—"
            if r.name in {c.name for c in CEILINGS}
            else ((f"≥ {r.share:.0%}, " if r.share is not None else "") + f"p99 ≤ {r.p99_target_ms} ms")
        )
        lines.append(
            f"| {r.name} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{r.peak_rss_mb:.0f} | {r.ratio_hello:.2f} | {r.ratio_minimal:.2f} | {target} | "
            f"{', '.join(r.verdicts) or ('ok' if target != '—' else '—')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["small", "large", "huge"], default="large")
    parser.add_argument("--database-url", help="default: sqlite:///var/bench-<scale>.db")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="uvicorn workers (default: cores)")
    parser.add_argument("--servers", type=int, default=1, help="independent `tracker serve` processes (default 1)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent users per server (default 16)")
    parser.add_argument("--duration", type=float, default=5, help="seconds measured per endpoint per round (5)")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per endpoint per round (1)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over every endpoint, interleaved (3)")
    parser.add_argument("--user", default="bench-manager")
    parser.add_argument("--only", help="measure only endpoints whose name contains this (the ceilings always run)")
    args = parser.parse_args()
    database_url = args.database_url or f"sqlite:///{ROOT / 'var' / f'bench-{args.scale}.db'}"
    backend = make_url(database_url).get_backend_name()

    binary = ensure_wrk()
    ensure_data(database_url, args.scale)
    values = placeholders(database_url)
    servers: list[Server] = []
    secret = secrets.token_urlsafe(40)
    try:
        for _ in range(args.servers):
            servers.append(Server(database_url, args.workers, secret))
        cookie = sign_in(servers[0].base, args.user)
        chosen = CEILINGS + [e for e in ENDPOINTS if not args.only or args.only in e.name]
        rounds: dict[str, list[Result]] = {e.name: [] for e in chosen}
        for n in range(args.rounds):
            for e in chosen:
                rounds[e.name].append(measure(servers, binary, e, values, cookie, args))
                r = rounds[e.name][-1]
                print(f"  round {n + 1}: {e.name}: {r.rps:.0f} req/s, p99 {r.p99_ms:.1f} ms", flush=True)
        peak = {pid: rss_mb(pid, "VmHWM") for server in servers for pid in server.workers()}
    finally:
        for server in servers:
            server.stop()
    results = [median_of(rounds[e.name]) for e in chosen]
    judge(results)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = (
        f"{backend}, {args.scale} data set, {args.servers} server(s) × {args.workers} workers, "
        f"{args.connections} connections each, median of {args.rounds} interleaved rounds of {args.duration:g} s "
        f"— {stamp}"
    )
    met = sum(1 for r in results[2:] if not r.verdicts)
    report = table(results, title) + (
        f"\nTargets met: {met} of {len(results) - 2}. "
        f"Peak RSS per worker over the whole run (VmHWM): {', '.join(f'{v:.0f} MB' for v in peak.values())}\n"
    )
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # A partial run (--only) never overwrites the full table.
    suffix = (f"-{args.servers}-servers" if args.servers > 1 else "") + (
        f"-only-{re.sub(r'[^a-z0-9]+', '-', args.only.lower())}" if args.only else ""
    )
    base = RESULTS / f"{backend}-{args.scale}{suffix}"
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

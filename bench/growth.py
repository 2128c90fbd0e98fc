"""How each key page's single request grows with the data: bench/profile.py run against each scale's database (in a
process of its own per database and mode), as a reader finds it again (figures kept) and on a first visit (the memo
off, every figure computed), side by side, with huge against large judged by issue 19's rule: at most 1.5 times, since
BIG — the project every page opens — is the same at every scale past large and only the rest of the portfolio grows.
Written to bench/results/.

    .venv/bin/python bench/growth.py \\
        --database small=postgresql+psycopg://postgres@127.0.0.1:5432/bench_small \\
        --database large=postgresql+psycopg://postgres@127.0.0.1:5432/bench_large \\
        --database huge=postgresql+psycopg://postgres@127.0.0.1:5432/bench_huge

Wall time per request (the median of --repeat): on PostgreSQL the database's work is another process's CPU, so run it
on a quiet machine."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GROWTH = 1.5  # huge against large, at most


def measure(url: str, repeat: int, cold: bool) -> dict[str, dict[str, float]]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "profile.py"), "--database-url", url]
            + (["--cold"] if cold else [])
            + ["--repeat", str(repeat), "--json", out.name],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(Path(out.name).read_text())


def table(warm: dict[str, dict[str, dict[str, float]]], cold: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(warm)
    heads = [f"{n} again" for n in names] + ["×"] + [f"{n} first" for n in names] + ["×"]
    lines = [
        f"| endpoint | {' | '.join(heads)} | queries | verdict |",
        "| --- | " + " | ".join("---:" for _ in heads) + " | ---: | --- |",
    ]
    for endpoint in warm[names[0]]:
        cells, worst = [], 0.0
        for figures in (warm, cold):
            ms = [figures[n].get(endpoint, {}).get("ms") for n in names]
            cells += [f"{m:.1f}" if m is not None else "—" for m in ms]
            large, huge = figures.get("large", {}).get(endpoint), figures.get("huge", {}).get(endpoint)
            ratio = huge["ms"] / large["ms"] if large and huge else None
            cells.append(f"{ratio:.2f}" if ratio is not None else "—")
            worst = max(worst, ratio or 0.0)
        queries = "/".join(str(cold[n].get(endpoint, {}).get("queries", "—")) for n in names)
        verdict = "—" if not worst else ("ok" if worst <= GROWTH else f"> {GROWTH}×")
        lines.append(f"| {endpoint} | {' | '.join(cells)} | {queries} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", required=True, help="SCALE=URL, in order (repeatable)")
    parser.add_argument("--repeat", type=int, default=5, help="requests per page after one warm-up")
    args = parser.parse_args()
    urls = dict(d.split("=", 1) for d in args.database)
    warm, cold = {}, {}
    for scale, url in urls.items():
        print(f"measuring {scale}…", flush=True)
        warm[scale] = measure(url, args.repeat, cold=False)
        cold[scale] = measure(url, args.repeat, cold=True)
    dialect = make_url(next(iter(urls.values()))).get_backend_name()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"### {dialect}: one request per key page at each scale, in ms, median of {args.repeat} — {when}\n\n"
        "*again*: as a reader finds the page again (figures kept while the record stands); *first*: every figure "
        "computed (the memo off); ×: huge ÷ large; queries: on a first visit, per scale.\n\n"
        f"{table(warm, cold)}\n"
    )
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{dialect}-growth.md").write_text(text)


if __name__ == "__main__":
    main()

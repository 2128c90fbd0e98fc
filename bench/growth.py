"""How each key page's single request grows with the data: bench/profile.py run against each scale's database (in a
process of its own per database, the memo off so every figure is computed as on a first visit), side by side, with
huge against large judged by issue 19's rule: at most 1.5 times, since BIG — the project every page opens — is the
same at every scale past large and only the rest of the portfolio grows. Written to bench/results/.

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


def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "profile.py"), "--database-url", url, "--cold"]
            + ["--repeat", str(repeat), "--json", out.name],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(Path(out.name).read_text())


def table(scales: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(scales)
    head = " | ".join(f"{n} ms" for n in names)
    lines = [
        f"| endpoint | {head} | queries | huge ÷ large | verdict |",
        "| --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: | --- |",
    ]
    first = scales[names[0]]
    for endpoint in first:
        ms = [scales[n].get(endpoint, {}).get("ms") for n in names]
        cells = " | ".join(f"{m:.1f}" if m is not None else "—" for m in ms)
        queries = "/".join(str(scales[n].get(endpoint, {}).get("queries", "—")) for n in names)
        large, huge = scales.get("large", {}).get(endpoint), scales.get("huge", {}).get(endpoint)
        if large and huge:
            ratio = huge["ms"] / large["ms"]
            verdict = "ok" if ratio <= GROWTH else f"> {GROWTH}×"
            lines.append(f"| {endpoint} | {cells} | {queries} | {ratio:.2f} | {verdict} |")
        else:
            lines.append(f"| {endpoint} | {cells} | {queries} | — | — |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", required=True, help="SCALE=URL, in order (repeatable)")
    parser.add_argument("--repeat", type=int, default=9, help="requests per page after one warm-up")
    args = parser.parse_args()
    urls = dict(d.split("=", 1) for d in args.database)
    scales = {}
    for scale, url in urls.items():
        print(f"measuring {scale}…", flush=True)
        scales[scale] = measure(url, args.repeat)
    dialect = make_url(next(iter(urls.values()))).get_backend_name()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"### {dialect}: one request per key page at each scale, figures computed (memo off), median of "
        f"{args.repeat} — {when}\n\n{table(scales)}\n"
    )
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{dialect}-growth.md").write_text(text)


if __name__ == "__main__":
    main()

"""Benchmark: the store at scale (10,000 conversations, 1,000,000 messages).

Measures what a user waits for: opening the database, the sidebar's conversation list,
opening a long conversation, and full-text searches. Each is the median of several runs
on a database generated once (bench/out/store-bench.db). Target: each under 100 ms.

    python bench/bench_store.py --write bench/RESULTS.md      (make bench-store)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.store import open_store  # noqa: E402
from desktop_app.store.db import check_integrity  # noqa: E402
from desktop_app.store.ids import new_id  # noqa: E402

CONVERSATIONS = 10_000
MESSAGES = 1_000_000
LONG_CONVERSATION = 2_000  # one conversation this long, the rest share the remainder
COMMON = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "you",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "your",
    "can",
    "i",
    "we",
    "have",
    "not",
    "or",
    "will",
]
TOPICAL = [
    "customer",
    "refund",
    "order",
    "delivery",
    "invoice",
    "apology",
    "thanks",
    "lesson",
    "fraction",
    "student",
    "teacher",
    "draft",
    "letter",
    "email",
    "article",
    "story",
    "chapter",
    "summary",
    "rewrite",
    "shorter",
    "friendly",
    "formal",
    "translate",
    "spanish",
    "french",
    "recipe",
    "garden",
    "budget",
    "meeting",
    "schedule",
    "report",
    "quarterly",
    "marketing",
    "product",
    "feature",
    "bug",
    "release",
    "python",
    "code",
    "function",
    "question",
    "answer",
    "example",
    "explain",
    "history",
    "science",
    "planet",
    "ocean",
    "mountain",
    "river",
    "city",
    "travel",
    "holiday",
]


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Common words, topical words and 20,000 rare made-up ones, with Zipf-like weights."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    rare = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(20_000)}
    words = COMMON + TOPICAL + sorted(rare)
    return words, [1.0 / (rank + 1) for rank in range(len(words))]


RUNS = 7


def generate(path: Path) -> None:
    rng = random.Random(7)
    words, weights = vocabulary(rng)
    store = open_store(path)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    per, extra = divmod(MESSAGES - LONG_CONVERSATION, CONVERSATIONS - 1)
    conn = store.conn
    with store.transaction():
        for index in range(CONVERSATIONS):
            cid = new_id()
            count = LONG_CONVERSATION if index == 0 else per + (1 if index <= extra else 0)
            moment = start + timedelta(minutes=index * 5)
            rows, parent = [], None
            for m in range(count):
                mid = new_id()
                text = " ".join(rng.choices(words, weights, k=rng.randint(8, 60)))
                stamp = (moment + timedelta(seconds=m)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                rows.append((mid, cid, parent, "user" if m % 2 == 0 else "assistant", text, stamp))
                parent = mid
            created = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            conn.execute(
                "INSERT INTO conversations (id, title, title_is_auto, created, updated, current_leaf_id, pinned)"
                " VALUES (?, ?, 0, ?, ?, ?, ?)",
                (cid, " ".join(rng.choices(TOPICAL, k=4)), created, rows[-1][5], parent, int(index % 500 == 0)),
            )
            conn.executemany(
                "INSERT INTO messages (id, conversation_id, parent_id, role, content, created) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
    store.close()


def timed(action, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "store-bench.db")
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate(args.db)
        print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    opened = []
    for _ in range(3):
        start = time.perf_counter()
        store = open_store(args.db)
        opened.append((time.perf_counter() - start) * 1000)
        store.close()
    store = open_store(args.db)
    counts = store.conn.execute(
        "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)"
    ).fetchone()
    longest = store.conn.execute(
        "SELECT conversation_id FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    rare_word = store.conn.execute("SELECT content FROM messages WHERE n = 500000").fetchone()[0].split()[-1]
    results = {
        "open the database (structure check; the full check runs in the background)": statistics.median(opened),
        "full integrity check (background)": timed(lambda: check_integrity(args.db), runs=1),
        "conversation list (first 200, pinned first)": timed(lambda: store.conversations.all(limit=200)),
        f"open a {LONG_CONVERSATION:,}-message conversation (current branch)": timed(
            lambda: store.conversations.path(longest)
        ),
        "search, two topical words ('quarterly marketing')": timed(lambda: store.search.search("quarterly marketing")),
        "search, a very common word ('the')": timed(lambda: store.search.search("the")),
        "search, a topical word ('customer')": timed(lambda: store.search.search("customer")),
        "search, a prefix ('transl')": timed(lambda: store.search.search("transl")),
        f"search, a rare word ('{rare_word}')": timed(lambda: store.search.search(rare_word)),
    }
    size_mb = args.db.stat().st_size / 1e6
    store.close()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    from bench_engine import append_report, machine  # type: ignore[import-not-found]

    lines = [
        f"\n## Store at scale, run of {stamp}\n",
        f"Machine: {machine()}. {counts[0]:,} conversations, {counts[1]:,} messages; database file {size_mb:,.0f} MB "
        f"(with its full-text index). Median of {RUNS} runs (3 for opening). Target: under 100 ms each.\n",
        "| operation | time |",
        "|---|---:|",
        *[f"| {name} | {ms:.1f} ms |" for name, ms in results.items()],
        "",
    ]
    report = "\n".join(lines)
    print(report)
    print(json.dumps(results), file=sys.stderr)
    if args.write:
        append_report(args.write, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

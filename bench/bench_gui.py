"""Benchmark: how long the GUI thread is ever blocked while a reply streams.

The window runs offscreen with the prepared default model on its worker thread. A 1 ms
timer on the GUI thread records the gap between its ticks; a gap is how long the event
loop could not run (a click or a repaint would have waited that long). Measured while a
reply streams into a chat of 1,000 messages, and for opening that chat. Target (issue 4):
never more than 50 ms during generation.

    python bench/bench_gui.py --write bench/RESULTS.md      (make bench-gui)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import machine, publish  # noqa: E402

HISTORY = 1_000
PROMPT = "Write a long story about a lighthouse keeper, with a title, headings and a list of characters."


class GapMeter:
    """Records the longest stretches between ticks of a 1 ms timer."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.gaps)


def run(new_tokens: int) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="inkwell-gui-bench-") as folder:
        os.environ["INKWELL_DATA_DIR"] = folder
        from desktop_app.app import _build, _wait_until

        _app, store, controller, window = _build(None, Path(folder) / "window.ini", interactive=False)
        try:
            chat = store.conversations.create("Long chat", settings={"max_new_tokens": new_tokens, "temperature": 0.8})
            text = "A paragraph with **bold**, a [link](https://example.org) and `code`.\n\n- one\n- two\n"
            with store.transaction():
                for i in range(HISTORY):
                    store.conversations.add_message(chat.id, "user" if i % 2 == 0 else "assistant", f"{i}: {text}")
            window.resize(1280, 800)
            window.show()
            controller.start()
            if not _wait_until(lambda: window.model_status.engine_info is not None, 300):
                raise SystemExit("The model did not load; prepare it with `inkwell models prepare`.")
            meter = GapMeter()
            window.list_pane.refresh()
            started = time.perf_counter()
            window.chat_pane.open_conversation(chat.id)
            open_ms = (time.perf_counter() - started) * 1000
            window.chat_pane.settings_pane.form.max_new_tokens.setValue(new_tokens)
            window.chat_pane.settings_pane.form.seed.setValue(7)
            replies: list[str] = []
            window.reply_finished.connect(replies.append)
            _wait_until(lambda: False, 0.5)
            meter.start()
            window.chat_pane.composer.setPlainText(PROMPT)
            window.chat_pane.send()
            _wait_until(lambda: bool(replies), 600)
            gaps = meter.stop()
            reply = store.conversations.message(replies[0])
        finally:
            window.close()
            store.close()
    gaps.sort()
    return {
        "tokens": float(reply.generated_tokens or 0),
        "tokens_per_s": float(reply.tokens_per_s or 0),
        "prompt_tokens": float(reply.prompt_tokens or 0),
        "ttft_ms": float(reply.ttft_ms or 0),
        "open_ms": open_ms,
        "worst_ms": gaps[-1],
        "p99_ms": gaps[int(len(gaps) * 0.99)],
        "median_ms": statistics.median(gaps),
        "over_50": float(sum(g > 50 for g in gaps)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new-tokens", type=int, default=400)
    parser.add_argument("--write", type=Path, help="append the results to this Markdown file")
    args = parser.parse_args()
    result = run(args.new_tokens)
    lines = [
        f"\n## GUI responsiveness, {date.today().isoformat()}\n",
        f"Machine: {machine()}. `bench/bench_gui.py`: a reply of {result['tokens']:.0f} tokens "
        f"({result['tokens_per_s']:.0f} tokens/s after a {result['prompt_tokens']:,.0f}-token prompt, first token "
        f"in {result['ttft_ms'] / 1000:.1f} s) streamed into a chat of {HISTORY:,} messages, offscreen; "
        "gaps between ticks of a 1 ms timer on the GUI thread.\n",
        "| measure | ms |",
        "|---|---|",
        f"| worst gap while streaming (target ≤ 50) | {result['worst_ms']:.1f} |",
        f"| 99th percentile gap | {result['p99_ms']:.1f} |",
        f"| median gap | {result['median_ms']:.1f} |",
        f"| gaps over 50 ms | {result['over_50']:.0f} |",
        f"| opening the chat (last 100 of {HISTORY:,} messages rendered) | {result['open_ms']:.0f} |",
        "",
    ]
    report = "\n".join(lines)
    publish(report, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

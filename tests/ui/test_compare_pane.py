"""Compare mode with fake engines: blind answers side by side, the vote, the reveal, the
models it loads beside the window's, the ratings and their export, Send to Compare."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel

from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationStats
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.session import compare
from desktop_app.session.compare import read_votes_csv, read_votes_json
from desktop_app.session.settings import ModelChoice
from desktop_app.store import Store, open_store
from desktop_app.ui.chat.message_actions import MessageAction
from desktop_app.ui.main_window import MainWindow, WindowServices
from tests.ui.conftest import FakeEngine, ask_and_wait, click_action


class SettingsEngine(FakeEngine):
    """Answers with what it was asked to do, so each side's text shows who wrote it."""

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        self.requests.append(request)
        yield PromptPrepared(10, 0, 0, self.context_length)
        text = f"{self.manifest.id} at temperature {request.settings.temperature:g}."
        yield TextChunk(text)
        yield Finished(0, text, GenerationStats(10, 4, 5.0, 80.0, FinishReason.STOP_TOKEN, seed=1))


def services(other_engines: list[FakeEngine] | None = None, fail_other: bool = False) -> WindowServices:
    """A window's services with a second installed model, "other", on engines of its own."""

    def factory(setting: str, _provider: str, _speedup: object = None):  # type: ignore[no-untyped-def]
        def load() -> FakeEngine:
            if fail_other:
                raise UserError("The other model's files are missing.")
            engine = SettingsEngine(manifest=SimpleNamespace(id=setting, name="Other model"))
            if other_engines is not None:
                other_engines.append(engine)
            return engine

        return load

    return WindowServices(list_models=lambda: [ModelChoice("other", "Other model (other)")], engine_factory=factory)


@pytest.fixture
def comparing(qtbot, make_window, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A window in Compare mode; the blind order's seeds come from a fixed sequence."""
    seeds = itertools.count(1)
    monkeypatch.setattr(compare.secrets, "randbits", lambda _bits: next(seeds))

    def make(engine=None, window_services=None):  # type: ignore[no-untyped-def]
        engine = engine or SettingsEngine()
        window = make_window(lambda: engine, window_services or services())
        window.menu_actions.compare_mode.trigger()
        return window, window.compare.pane, engine

    return make


def run_round(qtbot, pane, prompt: str = "Why is the sky blue?") -> None:  # type: ignore[no-untyped-def]
    pane.prompt.setPlainText(prompt)
    with qtbot.waitSignal(pane.round_over, timeout=10_000):
        qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)


def shown_text(pane) -> str:  # type: ignore[no-untyped-def]
    """Every label and answer the pane shows."""
    labels = [label.text() for label in pane.findChildren(QLabel) if label.isVisibleTo(pane)]
    return "\n".join(labels + [panel.view.toPlainText() for panel in pane.panels.values()])


def test_ctrl_3_opens_compare_which_the_window_remembers(qtbot, comparing, make_window) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = comparing()
    actions = window.menu_actions
    assert window.modes.currentWidget() is pane and actions.compare_mode.isChecked()
    assert not actions.chat_mode.isChecked() and not actions.writing_mode.isChecked()
    assert actions.compare_mode.shortcut().toString() == "Ctrl+3"
    assert actions.compare_mode in actions.mode_bar.actions()
    window.settings_dock.hide()
    window.close()
    again = make_window(SettingsEngine, services())
    again.start()
    assert again.modes.currentWidget() is again.compare.pane
    again.menu_actions.writing_mode.trigger()
    assert again.modes.currentWidget() is again.writing_pane and not again.menu_actions.compare_mode.isChecked()


def test_both_answers_stream_blind_and_the_vote_reveals_the_names_and_is_stored(qtbot, comparing, store: Store) -> None:  # type: ignore[no-untyped-def]
    _window, pane, engine = comparing()
    assert not any(b.isEnabled() for b in pane.vote_buttons.values())
    pane.second.choose(preset=1)  # "Precise (greedy)" against "Default" (temperature 0.8)
    run_round(qtbot, pane, "Why is the sky blue?")
    assert sorted(r.settings.temperature for r in engine.requests) == [0.0, 0.8]  # both on the model in use
    assert all(r.messages[-1].content == "Why is the sky blue?" for r in engine.requests)
    [stored] = store.votes.all()
    assert stored.vote is None and {stored.a.label, stored.b.label} == {
        "fake (q4) · greedy",
        "fake (q4) · temperature 0.8",
    }
    text = shown_text(pane)
    assert "fake at temperature" in text
    assert stored.a.label not in text and stored.b.label not in text  # blind until the vote
    assert "tokens/s" not in text  # speed tells models apart: shown after the vote
    assert pane.panels["a"].view.toPlainText() == stored.output_a and stored.output_a != stored.output_b
    assert all(b.isEnabled() for b in pane.vote_buttons.values())
    with qtbot.waitSignal(pane.voted, timeout=2000):
        qtbot.mouseClick(pane.vote_buttons["b"], Qt.MouseButton.LeftButton)
    voted = store.votes.get(stored.id)
    assert voted.vote == "b" and voted.voted_at is not None
    assert stored.a.label in pane.panels["a"].title.text() and stored.b.label in pane.panels["b"].title.text()
    assert "80 tokens/s" in pane.panels["a"].status.text()
    assert not any(b.isEnabled() for b in pane.vote_buttons.values())  # one vote per comparison
    qtbot.mouseClick(pane.next_button, Qt.MouseButton.LeftButton)
    assert pane.prompt.toPlainText() == "" and pane.panels["a"].view.toPlainText() == ""
    assert stored.a.label not in shown_text(pane)


def test_the_order_is_drawn_each_round_and_what_was_shown_is_what_is_stored(qtbot, comparing, store: Store) -> None:  # type: ignore[no-untyped-def]
    _window, pane, _ = comparing()
    pane.second.choose(preset=1)
    for round_number in range(8):
        run_round(qtbot, pane, f"Question {round_number}")
        left = pane.panels["a"].view.toPlainText()
        vote = pane.votable and store.votes.get(pane.comparison_id)
        assert vote and vote.output_a == left
        temperature = vote.a.settings["temperature"]
        assert left == f"fake at temperature {temperature:g}."  # the stored A is the one shown left
        assert vote.shown_left == ("first" if temperature == 0.8 else "second")  # contestant 1 is the Default
        pane.vote("a")
        pane.next_round()
    sides = [c.shown_left for c in store.votes.all()]
    assert set(sides) == {"first", "second"}  # both orders over the seeds 1..8
    assert [c.seed for c in store.votes.all()] == list(range(1, 9))


def test_another_model_runs_on_its_own_scheduler_which_stops_when_compare_is_left(
    qtbot, comparing, store: Store
) -> None:  # type: ignore[no-untyped-def]
    others: list[FakeEngine] = []
    window, pane, engine = comparing(window_services=services(others))
    pane.second.choose(model="other", preset=1)
    run_round(qtbot, pane)
    [own] = pane.runner.extra.values()
    assert own.is_running and len(others) == 1 and len(engine.requests) == 1
    [stored] = store.votes.all()
    by_model = {stored.a.model_id: stored.a, stored.b.model_id: stored.b}
    assert by_model["other"].label == "other (q4) · greedy" and by_model["fake"].provider == "cpu"
    run_round(qtbot, pane)  # the model stays loaded between rounds
    assert len(others) == 1 and list(pane.runner.extra.values()) == [own]
    window.menu_actions.chat_mode.trigger()
    assert pane.runner.extra == {}
    qtbot.waitUntil(lambda: not own.is_running and pane.runner.stopping == [], timeout=5000)
    window.menu_actions.compare_mode.trigger()
    run_round(qtbot, pane)
    [again] = pane.runner.extra.values()
    window.close()
    assert not again.is_running and not window.scheduler.is_running  # no thread left behind


def test_a_side_that_cannot_answer_says_why_and_allows_no_vote(qtbot, comparing, store: Store) -> None:  # type: ignore[no-untyped-def]
    _window, pane, _ = comparing(window_services=services(fail_other=True))
    pane.first.choose(model="other")
    run_round(qtbot, pane)
    failed = "a" if pane.round.a.model == "other" else "b"
    fine = "b" if failed == "a" else "a"
    assert "could not answer" in pane.panels[failed].status.text()
    assert "The other model's files are missing." in pane.panels[failed].status.text()
    assert pane.panels[fine].view.toPlainText().startswith("fake at temperature")
    assert "No vote" in pane.verdict.text() and not any(b.isEnabled() for b in pane.vote_buttons.values())
    assert store.votes.all() == []
    assert pane.send_button.isEnabled()


def test_stop_ends_both_answers_and_nothing_is_voted_on(qtbot, comparing, store: Store) -> None:  # type: ignore[no-untyped-def]
    window, pane, _engine = comparing(engine=FakeEngine(tokens=["word "] * 200, delay_s=0.01))
    pane.prompt.setPlainText("Write a long story")
    pane.send()
    qtbot.waitUntil(lambda: bool(pane.sides["a"].text or pane.sides["b"].text), timeout=5000)
    assert pane.stop_button.isEnabled() and not pane.send_button.isEnabled()
    with qtbot.waitSignal(pane.round_over, timeout=5000):
        qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    assert "Stopped" in pane.verdict.text() and not any(b.isEnabled() for b in pane.vote_buttons.values())
    assert store.votes.all() == [] and not window.scheduler.busy


def test_a_vote_survives_a_restart_and_the_ratings_rank_and_export_it(
    qtbot, comparing, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = comparing()
    pane.second.choose(preset=1)
    for _ in range(6):
        run_round(qtbot, pane)
        greedy_side = "a" if store.votes.get(pane.comparison_id).a.label.endswith("greedy") else "b"
        pane.vote(greedy_side)  # the greedy contestant is always preferred
        pane.next_round()
    window.close()
    store.close()
    from desktop_app.ui.generation import QtScheduler

    reopened = open_store(store.path)
    scheduler = QtScheduler(SettingsEngine)
    again = MainWindow(reopened, scheduler, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat), services())
    qtbot.addWidget(again)
    try:
        again.start()
        ratings = again.compare.pane.ratings
        assert again.modes.currentWidget() is again.compare.pane
        again.compare.pane.tabs.setCurrentWidget(ratings)
        table = ratings.table
        rows = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
        assert [row[1] for row in rows] == ["fake (q4) · greedy", "fake (q4) · temperature 0.8"]
        assert rows[0][4].startswith("6 (6 won") and rows[1][4].startswith("6 (0 won")
        assert int(rows[0][2]) > 1000 > int(rows[1][2])
        expected = reopened.votes.all(voted_only=True)
        for fmt, read in (("json", read_votes_json), ("csv", read_votes_csv)):
            target = tmp_path / f"exported-{fmt}"
            monkeypatch.setattr(ratings, "ask_save_path", lambda _fmt, t=target: t)
            button = ratings.export_json_button if fmt == "json" else ratings.export_csv_button
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            assert read(target.with_suffix(f".{fmt}").read_bytes()) == expected
    finally:
        again.close()
        reopened.close()
    assert not scheduler.is_running


def test_send_to_compare_from_a_chat_message_fills_the_prompt_and_switches(qtbot, comparing, store: Store) -> None:  # type: ignore[no-untyped-def]
    window, pane, _ = comparing()
    window.menu_actions.chat_mode.trigger()
    window.chat_pane.settings_pane.load("Answer in one line.", window.chat_pane.settings_pane.generation_settings())
    window.chat_pane.settings_pane.changed.emit()
    reply = ask_and_wait(qtbot, window, "What is the capital of France?")
    question = store.conversations.message(reply).parent_id
    assert store.conversations.get(store.conversations.message(reply).conversation_id).system_prompt == (
        "Answer in one line."
    )
    click_action(qtbot, window, "compare", reply)  # from a reply: the question it answers
    assert window.modes.currentWidget() is pane and window.menu_actions.compare_mode.isChecked()
    assert pane.prompt.toPlainText() == "What is the capital of France?"
    assert pane.system_prompt.toPlainText() == "Answer in one line."
    run_round(qtbot, pane)
    [stored] = store.votes.all()
    assert (stored.source_message_id, stored.system_prompt) == (reply, "Answer in one line.")
    window.menu_actions.chat_mode.trigger()
    bar = window.chat_pane.chat_view.action_bar
    bar.show_for(question, "user")  # a question has the action too, on its floating bar
    assert MessageAction.COMPARE in bar.buttons and bar.buttons[MessageAction.COMPARE].toolTip() == "Send to Compare"
    pane.prompt.clear()
    qtbot.mouseClick(bar.buttons[MessageAction.COMPARE], Qt.MouseButton.LeftButton)
    assert window.modes.currentWidget() is pane and pane.prompt.toPlainText() == "What is the capital of France?"
    assert pane.source_message_id == question


def test_greedy_against_beam_search_on_a_real_tiny_model(qtbot, make_window, tiny_engine_factory, store: Store) -> None:  # type: ignore[no-untyped-def]
    store.settings.set("generation", {"max_new_tokens": 8})
    window = make_window(lambda: tiny_engine_factory("fp32"), services())
    window.menu_actions.compare_mode.trigger()
    pane = window.compare.pane
    pane.first.choose(preset=1)  # Precise (greedy)
    pane.second.choose(preset=3)  # Beam search ×4
    run_round(qtbot, pane, "The quick brown fox")
    [stored] = store.votes.all()
    written = {stored.a.label: stored.output_a, stored.b.label: stored.output_b}
    assert set(written) == {"tiny-llama (fp32) · greedy", "tiny-llama (fp32) · beam search x4"}
    engine = tiny_engine_factory("fp32")
    for contestant in (pane.first.contestant(), pane.second.contestant()):
        request = compare.build_request("The quick brown fox", "", contestant.settings)
        [finished] = [e for e in engine.generate(request) if isinstance(e, Finished)]
        assert written[contestant.record("tiny-llama", "fp32", "cpu").label] == finished.text  # as the engine writes it
    assert {stored.a.settings["num_beams"], stored.b.settings["num_beams"]} == {1, 4}


class SlowEngine(SettingsEngine):
    """Writes one side slowly, token by token, when told to."""

    def __init__(self, gate: threading.Event, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.gate = gate

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        if request.settings.temperature == 0:  # the greedy side waits for the gate
            self.requests.append(request)
            yield PromptPrepared(10, 0, 0, self.context_length)
            yield TextChunk("slow ")
            self.gate.wait(10)
            yield TextChunk("side.")
            yield Finished(0, "slow side.", GenerationStats(10, 2, 5.0, 3.0, FinishReason.STOP_TOKEN, seed=1))
            return
        yield from super().generate(request, cancel)


def test_nothing_tells_the_sides_apart_until_both_are_written(qtbot, comparing) -> None:  # type: ignore[no-untyped-def]
    """One side done and the other still writing: both panels look alike and show no text."""
    gate = threading.Event()
    _window, pane, engine = comparing(engine=SlowEngine(gate))
    pane.second.choose(preset=1)
    pane.prompt.setPlainText("Why?")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(engine.requests) == 2, timeout=5000)
    qtbot.wait(100)
    assert [panel.view.toPlainText() for panel in pane.panels.values()] == ["", ""]
    assert pane.panels["a"].status.text() == pane.panels["b"].status.text() == "Writing both answers…"
    with qtbot.waitSignal(pane.round_over, timeout=10_000):
        gate.set()
    assert sorted(panel.view.toPlainText() for panel in pane.panels.values()) == [
        "fake at temperature 0.8.",
        "slow side.",
    ]


def test_leaving_compare_while_a_model_loads_never_waits(qtbot, comparing) -> None:  # type: ignore[no-untyped-def]
    loading, entered = threading.Event(), threading.Event()

    def factory(setting: str, _provider: str, _speedup: object = None):  # type: ignore[no-untyped-def]
        def load() -> FakeEngine:
            entered.set()
            loading.wait(10)
            return SettingsEngine(manifest=SimpleNamespace(id=setting, name="Other model"))

        return load

    window, pane, _ = comparing(
        window_services=WindowServices(list_models=lambda: [ModelChoice("other", "Other")], engine_factory=factory)
    )
    pane.second.choose(model="other")
    pane.prompt.setPlainText("Why?")
    qtbot.mouseClick(pane.send_button, Qt.MouseButton.LeftButton)
    [own] = pane.runner.extra.values()
    assert entered.wait(5)  # the thread is inside the load (before it, a stop ends it at once)
    started = time.monotonic()
    window.menu_actions.chat_mode.trigger()
    assert time.monotonic() - started < 1.0 and own.is_running and pane.runner.running == [own]
    loading.set()  # the load returns; nothing may reach the window from it now
    qtbot.waitUntil(lambda: pane.runner.running == [] and pane.runner.stopping == [], timeout=5000)

"""The Compare mode's page: a prompt, two contestants, their answers side by side as A and
B in a random order with the names hidden until the vote, and the ratings of all votes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished
from desktop_app.session.compare import CompareRound, Contestant, new_round
from desktop_app.session.settings import ModelChoice
from desktop_app.store import Store
from desktop_app.ui.chat.composer import ComposerWidget
from desktop_app.ui.compare.contestant import ContestantWidget
from desktop_app.ui.compare.ratings import RatingsWidget
from desktop_app.ui.compare.runner import CompareRunner
from desktop_app.ui.generation import QtHandle
from desktop_app.ui.icons import icon
from desktop_app.ui.status import StatusReporter, reports_problems

SIDES = ("a", "b")


@dataclass
class _Side:
    """One answer of the round in flight."""

    contestant: Contestant
    handle: QtHandle | None = None
    text: str = ""
    finished: Finished | None = None
    failure: str | None = None

    @property
    def over(self) -> bool:
        return self.finished is not None or self.failure is not None


class AnswerPanel(QFrame):
    """One side's answer under its letter (and, after the vote, its name)."""

    def __init__(self, letter: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.letter = letter
        self.setObjectName("compare-answer")
        self.title = QLabel(letter)
        self.title.setObjectName("compare-answer-title")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(False)
        self.view.setAccessibleName(self.tr("Answer {letter}").format(letter=letter))
        self.shown = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

    def reset(self) -> None:
        self.title.setText(f"<b>{self.letter}</b>")
        self.status.setText("")
        self.view.clear()
        self.shown = ""

    def show_text(self, text: str) -> None:
        """Render the answer so far (the view follows it unless scrolled up)."""
        if text == self.shown:
            return
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.view.setMarkdown(text)
        self.shown = text
        if at_end:
            bar.setValue(bar.maximum())

    def reveal(self, label: str) -> None:
        self.title.setText(f"<b>{self.letter}</b> · {label}")


class ComparePane(QWidget):
    round_over = Signal()  # both answers are in (or one failed, or the round was stopped)
    voted = Signal(str)  # the comparison's id, once its vote is saved

    def __init__(
        self,
        store: Store,
        runner: CompareRunner,
        reporter: StatusReporter,
        base_settings: Callable[[], GenerationSettings],
        list_models: Callable[[], list[ModelChoice]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("compare-pane")
        self.store = store
        self.runner = runner
        self.reporter = reporter
        self.base_settings = base_settings
        self.list_models = list_models
        self.round: CompareRound | None = None
        self.sides: dict[str, _Side] = {}
        self.comparison_id: str | None = None  # the stored round, awaiting or holding its vote
        self.source_message_id: str | None = None  # the chat message the prompt came from
        self.stopped = False
        self._build()
        self._connect_signals()
        self._set_state()

    def _build(self) -> None:
        self.first = ContestantWidget(self.tr("Contestant 1"), 0)
        self.second = ContestantWidget(self.tr("Contestant 2"), 1)  # greedy: two decodings by default
        contestants = QHBoxLayout()
        contestants.addWidget(self.first)
        contestants.addWidget(self.second)
        self.panels = {"a": AnswerPanel("A"), "b": AnswerPanel("B")}
        answers = QSplitter()
        answers.setChildrenCollapsible(False)
        for panel in self.panels.values():
            panel.reset()
            answers.addWidget(panel)
        self.vote_buttons = {
            "a": QPushButton(self.tr("A is better")),
            "tie": QPushButton(self.tr("Tie")),
            "b": QPushButton(self.tr("B is better")),
            "both_bad": QPushButton(self.tr("Both bad")),
        }
        self.next_button = QPushButton(self.tr("Next"))
        self.next_button.setToolTip(self.tr("Clear the answers for another prompt"))
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        votes = QHBoxLayout()
        for button in self.vote_buttons.values():
            votes.addWidget(button)
        votes.addWidget(self.verdict, 1)
        votes.addWidget(self.next_button)
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText(self.tr("System prompt (optional)"))
        self.system_prompt.setAccessibleName(self.tr("System prompt"))
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.prompt = ComposerWidget()
        self.prompt.setObjectName("compare-prompt")
        self.prompt.setPlaceholderText(
            self.tr("A prompt for both (Enter sends it to both, Shift+Enter for a new line)")
        )
        self.prompt.setAccessibleName(self.tr("Prompt"))
        self.send_button = QPushButton(icon("send", "#ffffff"), self.tr("Compare"))
        self.send_button.setObjectName("send-button")
        self.stop_button = QPushButton(icon("stop"), self.tr("Stop"))
        for button in (self.send_button, self.stop_button):
            button.setIconSize(QSize(16, 16))
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.prompt, 1)
        bottom.addLayout(buttons)
        arena = QWidget()
        layout = QVBoxLayout(arena)
        layout.addLayout(contestants)
        layout.addWidget(answers, 1)
        layout.addLayout(votes)
        layout.addWidget(self.system_prompt)
        layout.addLayout(bottom)
        self.ratings = RatingsWidget(self.store, self.reporter)
        self.tabs = QTabWidget()
        self.tabs.addTab(arena, self.tr("Compare"))
        self.tabs.addTab(self.ratings, self.tr("Ratings"))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.tabs)

    def _connect_signals(self) -> None:
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.prompt.send_requested.connect(self.send)
        self.prompt.stop_requested.connect(self.stop)
        self.prompt.drop_refused.connect(lambda text: self.reporter.show(text, 6000))
        self.next_button.clicked.connect(self.next_round)
        for vote, button in self.vote_buttons.items():
            button.clicked.connect(functools.partial(self.vote, vote))
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)

    # ---- what the window asks ----

    def refresh(self) -> None:
        """The installed models and the app's settings, as they are now."""
        models, base = self.list_models(), self.base_settings()
        for contestant in (self.first, self.second):
            contestant.set_models(models)
            contestant.set_base(base)
        if self.tabs.currentWidget() is self.ratings:
            self.ratings.refresh()

    def set_prompt(self, prompt: str, system_prompt: str, message_id: str | None = None) -> None:
        """Start from a chat's message: its prompt and system prompt (a round in flight stops)."""
        if self.running:
            self.stop()
        self._clear()
        self.prompt.setPlainText(prompt)
        self.system_prompt.setPlainText(system_prompt)
        self.source_message_id = message_id
        self.tabs.setCurrentIndex(0)

    @property
    def running(self) -> bool:
        return any(not side.over for side in self.sides.values())

    @property
    def votable(self) -> bool:
        """Both answers are in and stored, and no vote was given yet."""
        return self.comparison_id is not None and self.store.votes.get(self.comparison_id).vote is None

    # ---- a round ----

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not start the comparison"))
    def send(self) -> None:
        if self.running:
            return
        first, second = self.first.contestant(), self.second.contestant()
        round_ = new_round(
            self.prompt.toPlainText(), self.system_prompt.toPlainText(), first, second, self.source_message_id
        )
        self._reset_answers()
        self.runner.release(keep={first.model, second.model})  # a model no side uses any more goes
        self.round, self.stopped = round_, False
        self.sides = {side: _Side(round_.contestant(side)) for side in SIDES}
        try:
            for side in SIDES:
                self._submit(side)
        except UserError:
            self.stop()
            self.sides, self.round = {}, None
            self._set_state()
            raise
        self._set_state()

    def _submit(self, side: str) -> None:
        assert self.round is not None
        state = self.sides[side]
        model = state.contestant.model
        handle = self.runner.submit(model, self.round.request(side))
        state.handle = handle
        handle.started.connect(functools.partial(self._on_handle_started, handle, side))
        handle.text.connect(functools.partial(self._on_handle_text, handle, side))
        handle.finished.connect(functools.partial(self._on_handle_finished, handle, side))
        handle.failed.connect(functools.partial(self._on_handle_failed, handle, side))
        # The same words on both sides: which side loads a model, runs first or streams
        # faster would tell the contestants apart.
        self.panels[side].status.setText(self.tr("Writing both answers…"))

    def _current(self, handle: QtHandle, side: str) -> _Side | None:
        state = self.sides.get(side)
        return state if state is not None and state.handle is handle and not state.over else None

    def _on_handle_started(self, handle: QtHandle, side: str) -> None:
        pass  # nothing shown: when each side starts would tell them apart

    def _on_handle_text(self, handle: QtHandle, side: str, index: int, text: str) -> None:
        """Kept, not shown: both texts appear together once both are written, so neither
        the speed nor the way a side writes (a beam search's text comes whole) tells
        which contestant it is."""
        state = self._current(handle, side)
        if state is not None and index == 0:
            state.text += text

    def _on_handle_finished(self, handle: QtHandle, side: str, finished: Finished) -> None:
        state = self._current(handle, side)
        if state is None:
            return
        state.finished, state.text = finished, finished.text
        if finished.stats.finish_reason is FinishReason.CANCELLED:
            self.panels[side].status.setText(self.tr("Stopped."))
        self._check_over()

    def _show_stats(self) -> None:
        """After the vote: each side's length and speed (before it, they would name it)."""
        for side, state in self.sides.items():
            if state.finished is not None:
                stats = state.finished.stats
                self.panels[side].status.setText(
                    self.tr("{tokens} tokens · {speed} tokens/s").format(
                        tokens=stats.generated_tokens, speed=f"{stats.tokens_per_s:.0f}"
                    )
                )

    def _on_handle_failed(self, handle: QtHandle, side: str, message: str) -> None:
        state = self._current(handle, side)
        if state is None:
            return
        state.failure = message
        self.panels[side].status.setText(self.tr("This side could not answer: {reason}").format(reason=message))
        self._check_over()

    @Slot()
    def _render(self) -> None:
        for side, state in self.sides.items():
            self.panels[side].show_text(state.text)

    def _check_over(self) -> None:
        if self.running or self.round is None:
            return
        self._render()
        for side, state in self.sides.items():
            finished = state.finished
            if (
                state.failure is None
                and finished is not None
                and finished.stats.finish_reason is not FinishReason.CANCELLED
            ):
                self.panels[side].status.setText("")
        failed = [side.upper() for side in SIDES if self.sides[side].failure is not None]
        cut = self.stopped or any(
            s.finished is not None and s.finished.stats.finish_reason is FinishReason.CANCELLED
            for s in self.sides.values()
        )
        if cut:
            self.verdict.setText(self.tr("Stopped: unfinished answers are not voted on."))
        elif failed:
            self.verdict.setText(
                self.tr("No vote: {sides} could not answer, so the two cannot be compared.").format(
                    sides=" & ".join(failed)
                )
            )
        else:
            self._store_round()
        self._set_state()
        self.round_over.emit()

    def _store_round(self) -> None:
        assert self.round is not None
        records, outputs, stats = {}, {}, {}
        for side, state in self.sides.items():
            info = self.runner.info(state.contestant.model)
            model_id = info.model_id if info is not None else (state.contestant.model or "unknown")
            records[side] = state.contestant.record(
                model_id, info.quantization if info else "", info.provider_name if info else ""
            )
            outputs[side] = state.text
            stats[side] = state.finished.stats if state.finished is not None else None
        try:
            self.comparison_id = self.store.votes.add(self.round.comparison(records, outputs, stats)).id
        except UserError as exc:
            self.reporter.problem(self.tr("Could not save the comparison"), str(exc))
            return
        self.verdict.setText(self.tr("Which answer is better? The names show after your vote."))

    @Slot()
    def stop(self) -> None:
        """Stop both answers (no vote on what they wrote so far)."""
        if not self.running:
            return
        self.stopped = True
        for state in self.sides.values():
            if state.handle is not None:
                state.handle.cancel()

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not save the vote"))
    def vote(self, vote: str, _checked: bool = False) -> None:
        if self.comparison_id is None or not self.votable:
            return
        comparison = self.store.votes.vote(self.comparison_id, vote)
        self.panels["a"].reveal(comparison.a.label)
        self.panels["b"].reveal(comparison.b.label)
        self._show_stats()
        said = {
            "a": self.tr("You preferred A."),
            "b": self.tr("You preferred B."),
            "tie": self.tr("You called it a tie."),
            "both_bad": self.tr("You found both bad."),
        }[vote]
        self.verdict.setText(said + " " + self.tr("Next clears them for another prompt."))
        self._set_state()
        self.ratings.refresh()
        self.voted.emit(comparison.id)

    @Slot()
    def next_round(self) -> None:
        if self.running:
            self.stop()
            self.detach()
        self._clear()
        self.prompt.setFocus()

    def _clear(self) -> None:
        self._reset_answers()
        self.prompt.clear()
        self.system_prompt.clear()
        self.source_message_id = None

    def _reset_answers(self) -> None:
        self.round, self.sides, self.comparison_id = None, {}, None
        for panel in self.panels.values():
            panel.reset()
        self.verdict.setText("")
        self._set_state()

    def detach(self) -> None:
        """Stop listening to a round in flight: it ends as stopped, whatever comes later."""
        if not self.running:
            return
        for side, state in self.sides.items():
            if not state.over:
                state.handle, state.failure = None, self.tr("Stopped.")
                self.panels[side].status.setText(state.failure)
        self.stopped = True
        self._check_over()

    def _set_state(self) -> None:
        running, votable = self.running, self.votable
        self.send_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for widget in (self.first, self.second):
            widget.setEnabled(not running)
        for button in self.vote_buttons.values():
            button.setEnabled(votable)

    def leave(self) -> None:
        """Compare mode is left: a round in flight stops; the other models are unloaded."""
        self.stop()
        self.detach()
        self.runner.release()

    def shutdown(self) -> None:
        """The window closes: the round stops and every other model's thread is waited for."""
        self.stop()
        self.detach()
        self.runner.shutdown()

    @Slot(int)
    def _on_tabs_current_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.ratings:
            self.ratings.refresh()

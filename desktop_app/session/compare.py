"""Compare mode without Qt: two contestants (a model and its settings) answer one prompt;
the answers are shown blind as A and B in a random order that is drawn and recorded; the
votes rank the contestants by Bradley–Terry with bootstrap intervals, and export to JSON
and CSV. The window drives it; the command line could too.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.files import write_atomically
from desktop_app.core.generation import GenerationSettings, GenerationStats
from desktop_app.core.i18n import marked, translate
from desktop_app.engine import GenerationRequest
from desktop_app.store import Store
from desktop_app.store.ids import now_iso
from desktop_app.store.votes import Comparison, ContestantRecord, check_vote

CURRENT_MODEL = ""  # a contestant's model setting meaning "the model the window uses"
EXPORT_FORMATS = ("json", "csv")
EXPORT_KIND = "inkwell-compare-votes"
# Bradley–Terry's prior: a virtual tie of this many games between every two contestants, so
# that one that won every vote gets a large but finite score, and contestants that never
# met share one scale.
PRIOR_GAMES = 0.5
BOOTSTRAP_ROUNDS = 200
ELO_BASE, ELO_SCALE = 1000.0, 400.0  # scores shown on the familiar Elo scale


# ---- contestants and their presets ----


@dataclass(frozen=True)
class ComparePreset:
    """A named choice of decoding: shown translated, translate("Compare", name)."""

    name: str
    temperature: float | None  # None: the app's default temperature
    num_beams: int = 1


PRESETS = (
    ComparePreset(marked("Compare", "Default"), None),
    ComparePreset(marked("Compare", "Precise (greedy)"), 0.0),
    ComparePreset(marked("Compare", "Creative"), 1.1),
    ComparePreset(marked("Compare", "Beam search ×4"), 0.0, 4),
)


def contestant_settings(base: GenerationSettings, temperature: float, num_beams: int = 1) -> GenerationSettings:
    """The app's generation settings with a contestant's choices (a bad value: UserError)."""
    return replace(base, temperature=temperature, num_beams=num_beams, num_alternatives=1)


def preset_settings(base: GenerationSettings, preset: ComparePreset) -> GenerationSettings:
    temperature = base.temperature if preset.temperature is None else preset.temperature
    return contestant_settings(base, temperature, preset.num_beams)


def settings_label(settings: GenerationSettings) -> str:
    """How a contestant decodes, in a few words that never change with the window's
    language (the ratings group by them)."""
    if settings.num_beams > 1:
        return f"beam search x{settings.num_beams}"
    if settings.temperature == 0:
        return "greedy"
    return f"temperature {settings.temperature:g}"


@dataclass(frozen=True)
class Contestant:
    """One side as the user set it up: a model setting ("" for the model in use, an id or
    "id:quantization") and its generation settings."""

    model: str
    settings: GenerationSettings

    def record(self, model_id: str, quantization: str, provider: str) -> ContestantRecord:
        """What is stored, once the model it ran on is known."""
        name = f"{model_id} ({quantization})" if quantization else model_id
        return ContestantRecord(
            model_id, quantization, provider, self.settings.to_dict(), f"{name} · {settings_label(self.settings)}"
        )


# ---- a round: the prompt, the pairing and the random order ----


@dataclass(frozen=True)
class Draw:
    """The random order: `value` is the first number of random.Random(seed); below one half
    the first contestant is shown as A, on the left."""

    seed: int
    value: float

    @property
    def first_is_a(self) -> bool:
        return self.value < 0.5

    @property
    def shown_left(self) -> str:
        return "first" if self.first_is_a else "second"


def draw_order(seed: int | None = None) -> Draw:
    """A fresh random order (from the system's randomness unless a seed is given)."""
    if seed is None:
        seed = secrets.randbits(62)
    return Draw(seed, random.Random(seed).random())


@dataclass(frozen=True)
class CompareRound:
    prompt: str
    system_prompt: str
    first: Contestant
    second: Contestant
    draw: Draw
    source_message_id: str | None = None

    @property
    def a(self) -> Contestant:
        return self.first if self.draw.first_is_a else self.second

    @property
    def b(self) -> Contestant:
        return self.second if self.draw.first_is_a else self.first

    def contestant(self, side: str) -> Contestant:
        return self.a if side == "a" else self.b

    def request(self, side: str) -> GenerationRequest:
        """The request that side "a" or "b" answers."""
        return build_request(self.prompt, self.system_prompt, self.contestant(side).settings)

    def comparison(
        self,
        records: dict[str, ContestantRecord],
        outputs: dict[str, str],
        stats: dict[str, GenerationStats | None],
    ) -> Comparison:
        """The row to store, by side ("a", "b"); id and time are given when it is added."""
        return Comparison(
            id="",
            created="",
            prompt=self.prompt,
            system_prompt=self.system_prompt,
            source_message_id=self.source_message_id,
            a=records["a"],
            b=records["b"],
            output_a=outputs["a"],
            output_b=outputs["b"],
            stats_a=stats_dict(stats.get("a")),
            stats_b=stats_dict(stats.get("b")),
            seed=self.draw.seed,
            draw=self.draw.value,
            shown_left=self.draw.shown_left,
        )


def new_round(
    prompt: str,
    system_prompt: str,
    first: Contestant,
    second: Contestant,
    source_message_id: str | None = None,
    seed: int | None = None,
) -> CompareRound:
    prompt = prompt.strip()
    if not prompt:
        raise UserError(translate("Errors", "Write a prompt for the two models to answer."))
    return CompareRound(prompt, system_prompt.strip(), first, second, draw_order(seed), source_message_id)


def build_request(prompt: str, system_prompt: str, settings: GenerationSettings) -> GenerationRequest:
    system = [ChatMessage("system", system_prompt)] if system_prompt else []
    return GenerationRequest(messages=(*system, ChatMessage("user", prompt)), settings=settings)


def stats_dict(stats: GenerationStats | None) -> dict[str, Any]:
    if stats is None:
        return {}
    data = asdict(stats)
    data["finish_reason"] = stats.finish_reason.value
    return data


@dataclass(frozen=True)
class ComparePrompt:
    """What a chat message brings to Compare."""

    prompt: str
    system_prompt: str
    message_id: str


def prompt_from_message(store: Store, message_id: str) -> ComparePrompt:
    """A user message's text, or for a reply the user message it answers, with the chat's
    system prompt."""
    conversations = store.conversations
    message = conversations.message(message_id)
    asked = message
    if message.role == "assistant" and message.parent_id is not None:
        asked = conversations.message(message.parent_id)
    if asked.role != "user":
        raise UserError(translate("Errors", "Only a question or a reply to one can be compared."))
    system_prompt = conversations.get(message.conversation_id).system_prompt
    return ComparePrompt(asked.content, system_prompt, message_id)


# ---- ratings ----


@dataclass(frozen=True)
class Rating:
    label: str
    score: float  # on the Elo scale: 1000 + 400·log10(strength), the strengths' geometric mean 1
    low: float  # the 95% bootstrap interval of the score
    high: float
    votes: int
    wins: int
    ties: int  # "both bad" counts as a tie
    losses: int


Game = tuple[str, str, float]  # (contestant, contestant, the first one's score: 1, 0.5 or 0)

VOTE_SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}


def games(comparisons: Iterable[Comparison]) -> list[Game]:
    """The voted comparisons as games between labels; ties and "both bad" score one half
    each (as Chatbot Arena counts them); a contestant against itself tells nothing."""
    return [
        (c.a.label, c.b.label, VOTE_SCORES[c.vote])
        for c in comparisons
        if c.vote is not None and c.a.label != c.b.label
    ]


def bradley_terry(played: Sequence[Game], prior: float = PRIOR_GAMES, tolerance: float = 1e-9) -> dict[str, float]:
    """Each contestant's strength by maximum likelihood (geometric mean 1)."""
    players = sorted({name for game in played for name in game[:2]})
    if len(players) < 2:
        return dict.fromkeys(players, 1.0)
    first, second, score = _indexed(played, players)
    strength = _mm(*_counts(first, second, score, np.ones((1, len(score))), len(players), prior), tolerance)
    return {name: float(strength[0, i]) for i, name in enumerate(players)}


def _indexed(played: Sequence[Game], players: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = {name: i for i, name in enumerate(players)}
    first = np.array([index[g[0]] for g in played], dtype=np.int64)
    second = np.array([index[g[1]] for g in played], dtype=np.int64)
    return first, second, np.array([g[2] for g in played], dtype=np.float64)


def _counts(
    first: np.ndarray, second: np.ndarray, score: np.ndarray, weights: np.ndarray, size: int, prior: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wins (B, N) and meetings (B, N, N) of B samples of the games, each game counted as
    often as `weights` (B, G) says, plus a virtual tie of `prior` games in every pair."""
    samples = weights.shape[0]
    wins = np.full((samples, size), prior * (size - 1) / 2)
    meetings = np.full((samples, size, size), prior)
    meetings[:, np.arange(size), np.arange(size)] = 0.0
    for b in range(samples):
        wins[b] += np.bincount(first, weights[b] * score, size) + np.bincount(second, weights[b] * (1 - score), size)
        pairs = np.bincount(first * size + second, weights[b], size * size).reshape(size, size)
        meetings[b] += pairs + pairs.T
    return wins, meetings


def _mm(wins: np.ndarray, meetings: np.ndarray, tolerance: float, max_iterations: int = 100_000) -> np.ndarray:
    """Hunter's MM (Zermelo's) iterations, p_i = W_i / sum_j n_ij / (p_i + p_j), normalised
    to a geometric mean of 1, for B samples at once (rows of `wins`)."""
    strength = np.ones_like(wins)
    for _ in range(max_iterations):
        updated = wins / (meetings / (strength[:, :, None] + strength[:, None, :])).sum(axis=2)
        updated /= np.exp(np.log(updated).mean(axis=1, keepdims=True))
        done = np.max(np.abs(np.log(updated) - np.log(strength)), initial=0.0) < tolerance
        strength = updated
        if done:
            break
    return strength


def elo_score(strength: float) -> float:
    return ELO_BASE + ELO_SCALE * math.log10(strength)


def rate(
    comparisons: Iterable[Comparison], rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0, prior: float = PRIOR_GAMES
) -> list[Rating]:
    """The contestants, best first, with their votes and a 95% interval from `rounds`
    bootstrap resamples of the votes (seeded: the same votes give the same interval). A
    resample that lacks a contestant's votes says nothing of it and is left out of its interval."""
    played = games(comparisons)
    if not played:
        return []
    players = sorted({name for game in played for name in game[:2]})
    first, second, score = _indexed(played, players)
    size = len(players)
    strength = _mm(*_counts(first, second, score, np.ones((1, len(played))), size, prior), 1e-9)[0]
    weights = np.random.default_rng(seed).multinomial(len(played), np.full(len(played), 1 / len(played)), rounds)
    drawn = _mm(*_counts(first, second, score, weights, size, prior), 1e-7)
    present = np.zeros((len(drawn), size), dtype=bool)
    for b in range(len(drawn)):
        present[b] = (np.bincount(first, weights[b], size) + np.bincount(second, weights[b], size)) > 0
    ratings = []
    for i, name in enumerate(players):
        mine = np.concatenate([score[first == i], 1 - score[second == i]])
        wins, ties, losses = int((mine == 1).sum()), int((mine == 0.5).sum()), int((mine == 0).sum())
        scores = ELO_BASE + ELO_SCALE * np.log10(drawn[present[:, i], i])
        low, high = np.quantile(scores, [0.025, 0.975]) if len(scores) else (elo_score(strength[i]),) * 2
        ratings.append(Rating(name, elo_score(strength[i]), float(low), float(high), len(mine), wins, ties, losses))
    return sorted(ratings, key=lambda r: (-r.score, r.label))


# ---- export ----

CSV_FIELDS = [
    "id", "created", "prompt", "system_prompt", "source_message_id",
    *(f"{side}_{name}" for side in "ab" for name in ("label", "model_id", "quantization", "provider", "settings")),
    "output_a", "output_b", "stats_a", "stats_b", "seed", "draw", "shown_left", "vote", "voted_at",
]  # fmt: skip


def votes_json(comparisons: Sequence[Comparison]) -> bytes:
    document = {
        "kind": EXPORT_KIND,
        "version": 1,
        "exported": now_iso(),
        "comparisons": [asdict(c) for c in comparisons],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def votes_csv(comparisons: Sequence[Comparison]) -> bytes:
    """One row per comparison; settings and stats as JSON in their cells."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for comparison in comparisons:
        row = {name: value for name, value in asdict(comparison).items() if name not in ("a", "b")}
        for side, contestant in (("a", comparison.a), ("b", comparison.b)):
            for name, value in asdict(contestant).items():
                row[f"{side}_{name}"] = json.dumps(value, sort_keys=True) if name == "settings" else value
        for name in ("stats_a", "stats_b"):
            row[name] = json.dumps(row[name], sort_keys=True)
        writer.writerow({name: "" if row[name] is None else row[name] for name in CSV_FIELDS})
    return out.getvalue().encode("utf-8")


def _comparison(data: dict[str, Any]) -> Comparison:
    values = dict(data)
    values["a"], values["b"] = ContestantRecord(**values["a"]), ContestantRecord(**values["b"])
    if values.get("vote") is not None:
        check_vote(values["vote"])
    return Comparison(**values)


def read_votes_json(data: bytes) -> list[Comparison]:
    document = json.loads(data.decode("utf-8-sig"))
    if not isinstance(document, dict) or document.get("kind") != EXPORT_KIND:
        raise UserError(translate("Errors", "This is not a file of Inkwell's Compare votes."))
    return [_comparison(item) for item in document["comparisons"]]


def read_votes_csv(data: bytes) -> list[Comparison]:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    comparisons = []
    for row in rows:
        values: dict[str, Any] = {name: row[name] for name in CSV_FIELDS if not name.startswith(("a_", "b_"))}
        for side in "ab":
            values[side] = {
                name: json.loads(row[f"{side}_{name}"]) if name == "settings" else row[f"{side}_{name}"]
                for name in ("model_id", "quantization", "provider", "settings", "label")
            }
        values["stats_a"], values["stats_b"] = json.loads(values["stats_a"]), json.loads(values["stats_b"])
        values["seed"], values["draw"] = int(values["seed"]), float(values["draw"])
        for name in ("source_message_id", "vote", "voted_at"):
            values[name] = values[name] or None
        comparisons.append(_comparison(values))
    return comparisons


def export_votes(store: Store, path: Path, fmt: str | None = None) -> int:
    """Write the voted comparisons to `path` (JSON or CSV, by `fmt` or the file's suffix)
    whole or not at all; how many were written."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise UserError(translate("Errors", "Votes export to JSON or CSV, not “{format}”.").format(format=fmt))
    voted = store.votes.all(voted_only=True)
    write_atomically(path, votes_json(voted) if fmt == "json" else votes_csv(voted))
    return len(voted)

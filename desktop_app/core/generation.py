"""Generation settings and the reasons a generation can finish."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import marked, translate


class FinishReason(str, Enum):
    STOP_TOKEN = "stop_token"
    STOP_SEQUENCE = "stop_sequence"
    LENGTH = "length"
    CANCELLED = "cancelled"
    CONTEXT_FULL = "context_full"
    # A remote server closed the connection (or stopped answering) mid-reply: the text so far is kept.
    INTERRUPTED = "interrupted"


THINKING_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class GenerationSettings:
    """How to pick tokens. Defaults follow llama.cpp's sampler defaults.

    temperature 0 means greedy decoding (every other sampling knob is then moot, but the
    penalties still apply). top_k 0, top_p 1 and min_p 0 switch those filters off.
    """

    max_new_tokens: int = 512
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repetition_penalty: float = 1.1
    # Penalise only the most recent tokens, as llama.cpp does (its repeat_last_n is 64);
    # penalising a whole long conversation would punish every common word.
    repetition_window: int = 256
    no_repeat_ngram_size: int = 0
    seed: int | None = None
    stop_sequences: tuple[str, ...] = ()
    num_alternatives: int = 1
    # OpenAI's penalties, over the tokens of the reply only (the API server's requests):
    # a token's logit falls by presence once it appears and by frequency for each time.
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    # Beam search (num_beams > 1) keeps the num_beams likeliest texts at each step and returns
    # the best num_alternatives of them (Hugging Face's num_return_sequences); it is
    # deterministic, so the sampling knobs above are moot. length_penalty is the exponent of
    # the length that a finished text's log-probability is divided by (> 0 favours longer
    # texts); early_stopping is True (stop once num_beams texts have finished), False (stop
    # when no running beam can do better, judged at the current length) or "never" (judged
    # at the longest length), as in transformers.
    num_beams: int = 1
    length_penalty: float = 1.0
    early_stopping: bool | str = False
    # Thinking models (a template or vocabulary with think markers): "auto" leaves it to the
    # model's template, "on" and "off" set its enable_thinking switch (without a switch, "off"
    # closes the reasoning as soon as it opens). reasoning_budget caps the reasoning in
    # tokens, after which the model is told to answer (llama.cpp's --reasoning-budget); -1
    # is no cap, 0 no reasoning.
    thinking: str = "auto"
    reasoning_budget: int = -1

    def __post_init__(self) -> None:
        checks = [
            (self.max_new_tokens >= 1, marked("Errors", "max new tokens must be at least 1")),
            (self.temperature >= 0, marked("Errors", "temperature cannot be negative")),
            (self.top_k >= 0, marked("Errors", "top-k cannot be negative")),
            (0 < self.top_p <= 1, marked("Errors", "top-p must be in (0, 1]")),
            (0 <= self.min_p < 1, marked("Errors", "min-p must be in [0, 1)")),
            (self.repetition_penalty > 0, marked("Errors", "repetition penalty must be positive")),
            (self.repetition_window >= 0, marked("Errors", "repetition window cannot be negative")),
            (self.no_repeat_ngram_size >= 0, marked("Errors", "no-repeat n-gram size cannot be negative")),
            (1 <= self.num_alternatives <= 8, marked("Errors", "alternatives must be between 1 and 8")),
            (self.seed is None or self.seed >= 0, marked("Errors", "seed cannot be negative")),
            (-2 <= self.presence_penalty <= 2, marked("Errors", "presence penalty must be between -2 and 2")),
            (-2 <= self.frequency_penalty <= 2, marked("Errors", "frequency penalty must be between -2 and 2")),
            (1 <= self.num_beams <= 16, marked("Errors", "beams must be between 1 and 16")),
            (
                self.num_beams == 1 or self.num_alternatives <= self.num_beams,
                marked("Errors", "beam search returns at most as many texts as it has beams"),
            ),
            (-10 <= self.length_penalty <= 10, marked("Errors", "length penalty must be between -10 and 10")),
            (
                self.early_stopping in (True, False, "never"),
                marked("Errors", "early stopping must be true, false or never"),
            ),
            (self.thinking in THINKING_MODES, marked("Errors", "thinking must be auto, on or off")),
            (self.reasoning_budget >= -1, marked("Errors", "reasoning budget must be -1 (no cap) or more")),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(
                    translate("Errors", "Invalid generation setting: {message}.").format(
                        message=translate("Errors", message)
                    )
                )

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @property
    def thinking_wanted(self) -> bool | None:
        """Whether the model should think: None leaves it to the model."""
        if self.thinking == "off" or self.reasoning_budget == 0:
            return False
        return True if self.thinking == "on" else None

    @property
    def beam_search(self) -> bool:
        return self.num_beams > 1

    @property
    def num_return_sequences(self) -> int:
        """Transformers' name for the texts a beam search returns: the alternatives."""
        return self.num_alternatives

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop_sequences"] = list(self.stop_sequences)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationSettings:
        """Build from stored JSON, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "stop_sequences" in values:
            values["stop_sequences"] = tuple(values["stop_sequences"])
        return cls(**values)


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int
    generated_tokens: int
    ttft_ms: float
    tokens_per_s: float
    finish_reason: FinishReason
    seed: int
    reused_prompt_tokens: int = 0
    dropped_messages: int = 0
    reasoning_tokens: int = 0  # of generated_tokens, those of a thinking model's reasoning
    reasoning_ms: float = 0.0  # from the first token to the end of the reasoning
    # Speculative decoding: tokens proposed (by lookup or a draft model) and, of those, kept
    # because the model chose them too.
    proposed_tokens: int = 0
    accepted_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

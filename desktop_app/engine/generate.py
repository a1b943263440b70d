"""Streaming generation: prompt building, context budget, prefix reuse and the token loop."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import numpy as np

from desktop_app.core.budget import prompt_budget
from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import ContextOverflowError, UserError
from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.core.i18n import translate
from desktop_app.core.manifest import ModelManifest, ModelVariant
from desktop_app.engine.beam import BeamSearch
from desktop_app.engine.chat_template import ChatTemplate
from desktop_app.engine.constraints import GrammarConstraints, TokenConstraint
from desktop_app.engine.events import Event, Finished, PromptPrepared
from desktop_app.engine.onnx_model import AnyKVCache, OnnxCausalLM, common_prefix_length
from desktop_app.engine.providers import ProviderReport
from desktop_app.engine.reasoning import thinking_syntax
from desktop_app.engine.reply import ReasoningPlan, ReplyText, marker_tokens
from desktop_app.engine.response_format import response_format_grammar
from desktop_app.engine.sampling import Sampler
from desktop_app.engine.speculation import Check, SpeculationSettings, Speculator
from desktop_app.engine.tokenizer import Tokenizer
from desktop_app.engine.tool_calls import (
    ToolCallFormat,
    ToolCallStream,
    call_grammar,
    check_tool_choice,
    check_tools,
    plain_history,
    tool_call_format,
)

log = logging.getLogger(__name__)

# When the context is full, old turns are dropped until the prompt fills this share of its
# budget, so the next few turns fit behind the same cut and reuse the cached prefix.
TRIM_TARGET = 0.75

# Prompts are fed in chunks so that a cancel is seen during a long prefill too.
PREFILL_CHUNK = 256


@dataclass(frozen=True)
class GenerationRequest:
    """A chat (`messages`, rendered with the model's template) or a raw text `prompt`.

    `response_format` is OpenAI's: {"type": "json_object"} or {"type": "json_schema",
    "json_schema": {"name": ..., "schema": {...}}} constrain the reply to JSON (see
    response_format.py); it is checked here, so a bad one fails before any work is queued.
    """

    messages: tuple[ChatMessage, ...] = ()
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    prompt: str | None = None
    response_format: dict[str, Any] | None = None
    # OpenAI's tools ({"type": "function", "function": {...}}) and tool_choice ("auto",
    # "none", "required" or {"type": "function", "function": {"name": ...}}); checked and
    # normalised here (tool_choice becomes "auto", "none", "required" or the name).
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: Any = None
    parallel_tool_calls: bool = True  # several calls in one reply

    def __post_init__(self) -> None:
        object.__setattr__(self, "tools", check_tools(list(self.tools)))
        object.__setattr__(self, "tool_choice", check_tool_choice(self.tool_choice, self.tools))
        if self.calls_tools and (self.prompt is not None or self.settings.beam_search or self.response_format):
            raise UserError(
                translate("Errors", "Tools can be given only to a chat, without beam search or a response format.")
            )
        if self.prompt is None and not self.messages:
            raise UserError(translate("Errors", "Nothing to answer: the request has no messages and no prompt."))
        if self.settings.beam_search and self.response_format is not None:
            raise UserError(
                translate("Errors", "Beam search cannot be combined with a JSON response format."),
                hint=translate("Errors", "Use one beam, or leave out the response format."),
            )
        response_format_grammar(self.response_format)

    @property
    def calls_tools(self) -> bool:
        """The model is given tools and may (or must) call them."""
        return bool(self.tools) and self.tool_choice != "none"

    @property
    def must_call(self) -> bool:
        """A call is required (any tool, or the one named): the whole reply is held to it."""
        return self.calls_tools and self.tool_choice != "auto"


@dataclass(frozen=True)
class PromptPlan:
    token_ids: list[int]
    dropped_messages: int
    reasoning: ReasoningPlan | None = None


class Engine:
    """A loaded model ready to generate. Not thread-safe: use it from one thread."""

    def __init__(
        self, model: OnnxCausalLM, tokenizer: Tokenizer, manifest: ModelManifest, variant: ModelVariant
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.variant = variant
        self.template = ChatTemplate(manifest.chat_template, manifest.special_tokens)
        self.stop_token_ids = frozenset(manifest.stop_token_ids)
        self._cache: AnyKVCache = model.empty_cache()
        self._trim_anchor: ChatMessage | None = None  # the oldest turn kept when last trimmed
        # A file that says add_bos_token starts every prompt with BOS, as llama.cpp does (a
        # Gemma or Llama model continues nonsense without it); a template that writes it
        # already is left alone.
        bos = manifest.special_tokens.get("bos_token")
        self._bos_id: int | None = None
        if manifest.special_tokens.get("add_bos_token") is True and isinstance(bos, str):
            self._bos_id = tokenizer.token_to_id(bos)
        self.thinking = thinking_syntax(self.template.source, lambda text: tokenizer.token_to_id(text) is not None)
        self.marker_tokens = marker_tokens(tokenizer)
        self._grammars: GrammarConstraints | None = None  # built on the first constrained request
        self._beams = BeamSearch(model, tokenizer, self.stop_token_ids, manifest.context_length)
        self.speculation = SpeculationSettings()  # lookup by default: it never changes a choice
        self.speedup_note = ""  # what the speculation settings do, as the window says it
        # Whether a checked proposal's logits are, bit for bit, a decoded token's (the CPU
        # variant of a graph all on Inkwell's operators, or float): where they are not,
        # speculation could part from plain decoding at a near-tie, so it stays off.
        self.checks_exactly = (
            model.verifies and bool(manifest.extra.get("checked_rows_exact")) and model.provider.name == "cpu"
        )

    def constraints(self, request: GenerationRequest) -> Callable[[], TokenConstraint] | None:
        """What makes a fresh constraint for each alternative of `request`; None for free text
        (or for calls the model may choose to make: those are held from their marker on)."""
        if request.must_call:
            fmt = self.tool_format[0]
            return self.compile(
                call_grammar(fmt, request.tools, request.tool_choice, False, request.parallel_tool_calls)
            )
        grammar = response_format_grammar(request.response_format)
        return self.compile(grammar) if grammar is not None else None

    def compile(self, grammar: str) -> Callable[[], TokenConstraint]:
        if self._grammars is None:
            started = perf_counter()
            self._grammars = GrammarConstraints(self.tokenizer, sorted(self.stop_token_ids))
            log.info("Grammar constraints ready for %s in %.2f s", self.manifest.id, perf_counter() - started)
        return self._grammars.compile(grammar)

    @property
    def tool_format(self) -> tuple[ToolCallFormat, bool]:
        """How the model writes a call, and whether its template writes the tools itself."""
        return tool_call_format(self.template.source)

    @property
    def provider(self) -> ProviderReport:
        return self.model.provider

    @property
    def context_length(self) -> int:
        return self.manifest.context_length

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text))

    def encode_prompt(self, text: str) -> list[int]:
        """The ids of a whole prompt: the text's, after BOS where the model wants one."""
        ids = self.tokenizer.encode(text)
        if self._bos_id is not None and ids[:1] != [self._bos_id]:
            ids.insert(0, self._bos_id)
        return ids

    def count_chat_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self.tokenizer.encode(self.template.render(messages)))

    @property
    def cache(self) -> AnyKVCache:
        """The KV cache the next request starts from (its prefix may be reused)."""
        return self._cache

    def reset_cache(self) -> None:
        self._cache = self.model.empty_cache()

    def prompt_budget(self, settings: GenerationSettings) -> int:
        """Tokens the prompt may use: the context less room for the reply (at most half)."""
        return prompt_budget(self.context_length, settings.max_new_tokens)

    def build_prompt(self, request: GenerationRequest) -> PromptPlan:
        """Tokenize the request; drop the oldest turns (never the system prompt) until it fits."""
        budget = self.prompt_budget(request.settings)
        if request.prompt is not None:
            ids = self.encode_prompt(request.prompt)
            if len(ids) > budget:
                raise self._overflow(len(ids), budget)
            return PromptPlan(ids, 0)

        system = [m for m in request.messages[:1] if m.role == "system"]
        turns = list(request.messages[len(system) :])
        reasoning = self._reasoning_plan(request)

        def encode(dropped: int) -> list[int]:
            return self.encode_prompt(self._render([*system, *turns[dropped:]], request))

        ids = encode(0)
        if len(ids) <= budget:
            self._trim_anchor = None
            return PromptPlan(ids, 0, reasoning)
        # Keep the cut where the last request made it while that still fits: the prompt then
        # starts as before and only the new turns are prefilled (prefix reuse). A new cut
        # leaves headroom (TRIM_TARGET) so the next turns can keep it too.
        if self._trim_anchor is not None and self._trim_anchor in turns[1:]:
            kept = turns.index(self._trim_anchor)
            candidate = encode(kept)
            if len(candidate) <= budget:
                return PromptPlan(candidate, kept, reasoning)
        best = self._fewest_dropped(encode, len(turns), int(budget * TRIM_TARGET)) or self._fewest_dropped(
            encode, len(turns), budget
        )
        if best is None:
            raise self._overflow(len(encode(max(len(turns) - 1, 0))), budget)
        log.info("Context full: dropped the %d oldest messages", best[0])
        self._trim_anchor = turns[best[0]]
        return PromptPlan(best[1], best[0], reasoning)

    def _thinking_wanted(self, request: GenerationRequest) -> bool | None:
        """Whether this reply may think (None: as the model's template decides). A reply held
        to a grammar does not: its first token must already be the grammar's."""
        if request.response_format is not None or request.must_call or request.settings.beam_search:
            return False  # a grammar's first token, or beams (whose texts are not split), come without thinking
        return request.settings.thinking_wanted

    def _render(self, messages: Sequence[ChatMessage], request: GenerationRequest) -> str:
        """The chat as the template writes it, with its thinking switch set; a prompt that
        opens the reasoning is closed again when the reply is not to think."""
        syntax = self.thinking
        wanted = self._thinking_wanted(request)
        tools = list(request.tools) if request.calls_tools else None
        if not self.tool_format[1] and (tools or any(m.role == "tool" or m.tool_calls for m in messages)):
            messages, tools = plain_history(messages, tools or ()), None  # a template with no place for tools
        text = self.template.render(messages, enable_thinking=wanted if syntax and syntax.switch else None, tools=tools)
        if syntax is not None and wanted is False and syntax.opens_in(text):
            text = syntax.closed_prompt(text)
        return text

    def _reasoning_plan(self, request: GenerationRequest) -> ReasoningPlan | None:
        if self.thinking is None:
            return None
        try:
            probe = self._render(request.messages[-1:], request)  # the generation prompt's end
        except UserError:  # a template that wants the whole chat (its turns in order)
            probe = self._render(request.messages, request)
        wanted = self._thinking_wanted(request)
        budget = 0 if wanted is False else request.settings.reasoning_budget
        return ReasoningPlan(self.thinking.markers, self.thinking.opens_in(probe), budget)

    @staticmethod
    def _fewest_dropped(encode: Callable[[int], list[int]], turns: int, budget: int) -> tuple[int, list[int]] | None:
        """The fewest dropped turns whose prompt fits `budget` (the newest turn always kept)."""
        low, high = 1, turns - 1
        best: tuple[int, list[int]] | None = None
        while low <= high:
            middle = (low + high) // 2
            candidate = encode(middle)
            if len(candidate) <= budget:
                best, high = (middle, candidate), middle - 1
            else:
                low = middle + 1
        return best

    def _overflow(self, needed: int, budget: int) -> ContextOverflowError:
        return ContextOverflowError(
            translate(
                "Errors",
                "This message is too long for the model: it needs {needed} tokens, and the model's context "
                "window of {context_length} tokens leaves {budget} for the prompt.",
            ).format(needed=needed, context_length=self.context_length, budget=budget),
            hint=translate("Errors", "Shorten the text, or lower 'max new tokens' to leave more room for the prompt."),
        )

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Stream events: PromptPrepared, then TextChunk pieces and a Finished per alternative."""
        started = perf_counter()
        settings = request.settings
        cancel = cancel or threading.Event()
        plan = self.build_prompt(request)
        if settings.beam_search:
            yield from self._beams.run(
                plan.token_ids, plan.dropped_messages, settings, self._cache, cancel, PREFILL_CHUNK
            )
            return
        make_constraint = self.constraints(request)
        open_calls = self.opened_calls(request)
        prompt = plan.token_ids
        seed = settings.seed if settings.seed is not None else secrets.randbits(31)

        # Reuse the cached prefix; at least one prompt token must run to give logits.
        reused = min(common_prefix_length(self._cache.tokens, prompt), len(prompt) - 1)
        if reused == 0:
            self._cache = self.model.empty_cache()  # let go of the old buffers before new ones are made
        cache = self._cache.truncated(reused)
        self.model.reserve(cache, min(len(prompt) + settings.max_new_tokens, self.context_length))
        yield PromptPrepared(len(prompt), plan.dropped_messages, reused, self.context_length)

        logits = np.zeros(0, dtype=np.float32)
        position = reused
        while position < len(prompt):
            if cancel.is_set():
                self._cache = cache
                for index in range(settings.num_alternatives):
                    stats = self._stats(plan, [], started, None, None, FinishReason.CANCELLED, seed + index, reused)
                    yield Finished(index, "", stats)
                return
            chunk = prompt[position : position + PREFILL_CHUNK]
            logits, cache = self.model.forward(chunk, cache)
            position += len(chunk)
        self._cache = cache

        for index in range(settings.num_alternatives):
            if index > 0:
                started = perf_counter()
            constraint = make_constraint() if make_constraint is not None else None
            yield from self._decode(
                index,
                plan,
                logits,
                cache,
                settings,
                seed + index,
                cancel,
                started,
                reused,
                constraint,
                request,
                open_calls,
            )

    def opened_calls(self, request: GenerationRequest) -> Callable[[], TokenConstraint] | None:
        """The grammar of calls the model opens itself (tool_choice auto), compiled before any
        token is written (a problem with it is then the request's, not the reply's)."""
        fmt = self.tool_format[0]
        if not request.calls_tools or request.must_call or not fmt.start or not self.stop_token_ids:
            return None  # (a model with no end token cannot be held to a grammar: its calls are read as written)
        return self.compile(call_grammar(fmt, request.tools, request.tool_choice, True, request.parallel_tool_calls))

    def reply_text(
        self,
        request: GenerationRequest,
        plan: PromptPlan,
        index: int,
        constraint: TokenConstraint | None,
        open_calls: Callable[[], TokenConstraint] | None = None,
    ) -> ReplyText:
        """What turns alternative `index`'s tokens into its events (shared with the batch)."""
        names = {tool["function"]["name"] for tool in request.tools}
        calls = ToolCallStream(self.tool_format[0], names) if request.calls_tools else None
        stops = request.settings.stop_sequences
        markers = self.marker_tokens
        return ReplyText(self.tokenizer, stops, index, plan.reasoning, constraint, calls, open_calls, markers)

    def _decode(
        self,
        index: int,
        plan: PromptPlan,
        logits: np.ndarray,
        cache: AnyKVCache,
        settings: GenerationSettings,
        seed: int,
        cancel: threading.Event,
        started: float,
        reused: int,
        constraint: TokenConstraint | None,
        request: GenerationRequest,
        open_calls: Callable[[], TokenConstraint] | None = None,
    ) -> Iterator[Event]:
        sampler = Sampler(settings, seed, prompt_length=len(plan.token_ids))
        reply = self.reply_text(request, plan, index, constraint, open_calls)
        history = list(plan.token_ids)
        generated: list[int] = []
        first_at: float | None = None
        reason = FinishReason.LENGTH
        speculator = self.speculator(plan.token_ids)
        check = Check()  # proposed tokens the cache holds past the last chosen one
        while True:
            if cancel.is_set():
                reason = FinishReason.CANCELLED
                break
            token = reply.pick(logits, sampler, history)
            if first_at is None:
                first_at = perf_counter()
            # The chosen token, compared with the next proposed one: the same, and the cache
            # holds it and the logits after it are known; else the proposals are dropped.
            known, cache = check.take(token, cache, speculator)
            if token in self.stop_token_ids:
                reason = FinishReason.STOP_TOKEN
                break
            generated.append(token)
            history.append(token)
            yield from reply.accept(token)
            if reply.stopped:
                reason = FinishReason.STOP_SEQUENCE
                break
            if reply.complete:  # the grammar is complete: only the end may follow
                reason = FinishReason.STOP_TOKEN
                break
            if len(generated) >= settings.max_new_tokens:
                reason = FinishReason.LENGTH
                break
            if len(history) >= self.context_length:  # prompt + reply fill the window
                reason = FinishReason.CONTEXT_FULL
                break
            if cancel.is_set():
                reason = FinishReason.CANCELLED
                break
            if known is not None:
                logits = known
                continue
            room = min(settings.max_new_tokens - len(generated), self.context_length - len(history)) - 1
            proposal = speculator.propose(history, room) if speculator is not None and room > 0 else []
            if proposal:
                checked, cache = self.model.forward_kept([token, *proposal], cache, len(proposal) + 1)
                logits = check.start(proposal, checked)
            else:
                logits, cache = self.model.forward([token], cache)
        yield from reply.end(reason)
        # The cache keeps what it holds of the reply (not proposals past its end).
        self._cache = cache.truncated(common_prefix_length(cache.tokens, history))
        stats = self._stats(plan, generated, started, first_at, perf_counter(), reason, seed, reused)
        if speculator is not None:
            stats = replace(stats, proposed_tokens=speculator.proposed, accepted_tokens=speculator.accepted)
        yield reply.finished(stats, generated)

    def speculates(self) -> bool:
        """Whether replies check proposals: the settings allow it and the graph checks them
        exactly."""
        return self.speculation.mode != "off" and self.checks_exactly

    def speculator(self, prompt: list[int]) -> Speculator | None:
        """The proposals for a reply, where the settings and the graph allow them."""
        return Speculator(self.speculation, prompt) if self.speculates() else None

    @staticmethod
    def _stats(
        plan: PromptPlan,
        generated: list[int],
        started: float,
        first_at: float | None,
        finished_at: float | None,
        reason: FinishReason,
        seed: int,
        reused: int,
    ) -> GenerationStats:
        ttft_ms = (first_at - started) * 1000 if first_at is not None else 0.0
        decode_s = (finished_at - first_at) if first_at is not None and finished_at is not None else 0.0
        tokens_per_s = (len(generated) - 1) / decode_s if len(generated) > 1 and decode_s > 0 else 0.0
        return GenerationStats(
            prompt_tokens=len(plan.token_ids),
            generated_tokens=len(generated),
            ttft_ms=ttft_ms,
            tokens_per_s=tokens_per_s,
            finish_reason=reason,
            seed=seed,
            reused_prompt_tokens=reused,
            dropped_messages=plan.dropped_messages,
        )

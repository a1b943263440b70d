"""Speculative decoding (engine/speculation.py): proposals checked in one pass, on the tiny
Llama GGUF (in float32, and quantized) and on the default model.

Greedy speculation is exact because a row of a checking pass has, bit for bit, the logits
that decoding its token alone gives: Inkwell's attention operator computes each query
row alone, and its products give a row the same bits whatever rows come with it (up to
K_MAX + 1 rows). The tests check that property itself, then the texts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, load_engine
from desktop_app.engine.sampling import filtered_probabilities
from desktop_app.engine.speculation import (
    K_MAX,
    PAUSE_START,
    PRIOR_KEPT,
    Check,
    DraftModel,
    Pacing,
    PromptLookup,
    SpeculationSettings,
    Speculator,
    best_length,
    match_class,
)

GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=40)
REPEATS = "one two three four five six seven eight nine ten " * 3 + "one two three"
PLAIN = "Rain fell all night; by morning the garden smelled of"


@pytest.fixture
def engine(tiny_gguf_engine):  # type: ignore[no-untyped-def]
    made = tiny_gguf_engine("F32")
    made.stop_token_ids = frozenset()  # the random model may pick its end token; lengths must hold
    return made


def run(engine, prompt: str, mode: str, settings: GenerationSettings = GREEDY) -> Finished:  # type: ignore[no-untyped-def]
    engine.speculation = replace(engine.speculation, mode=mode)
    engine.reset_cache()
    return next(
        e for e in engine.generate(GenerationRequest(prompt=prompt, settings=settings)) if isinstance(e, Finished)
    )


def proposed(lookup: PromptLookup, limit: int) -> list[int]:
    """What the speculator proposes from lookup's match (its length aside)."""
    found = lookup.match()
    return lookup.continuation(found[1], limit) if found is not None else []


def test_lookup_proposes_what_followed_the_longest_recent_match() -> None:
    lookup = PromptLookup()
    lookup.extend([1, 2, 3, 4, 9, 2, 3, 5, 6, 1, 2, 3])
    assert proposed(lookup, 3) == [4, 9, 2]  # "2 3" last went on with 5, but "1 2 3" is longer
    recent = PromptLookup()
    recent.extend([2, 3, 4, 8, 2, 3, 5, 6, 1, 7, 2, 3])
    assert proposed(recent, 2) == [5, 6]  # of the matches of "2 3", the most recent
    lookup.extend([8])
    assert proposed(lookup, 4) == []  # "2 3 8" and "3 8" never occurred
    single = PromptLookup()
    single.extend([5, 1, 7, 1])
    assert proposed(single, 2) == []  # one repeated token is too little to go on
    repeating = PromptLookup()
    repeating.extend([7, 1, 2, 3, 1, 2, 3, 1, 2])
    # "2 3 1 2" last went on with "3 1 2" and then the present: that run, again
    assert proposed(repeating, 8) == [3, 1, 2, 3, 1, 2, 3, 1]


def test_lookup_reports_its_match_and_sorts_it_by_length() -> None:
    lookup = PromptLookup()
    lookup.extend([1, 2, 3, 4, 9, 2, 3, 5, 6, 1, 2, 3])
    assert lookup.match() == (3, 3)  # "1 2 3", continued from position 3
    assert lookup.continuation(3, 2) == [4, 9]
    copy = PromptLookup()
    copy.extend([*range(10, 30), 5, *range(10, 25)])
    assert copy.match() == (8, 15)  # the last eight of the copy, at most
    assert proposed(copy, 3) == [25, 26, 27]
    assert [match_class(n) for n in (2, 3, 4, 7, 8)] == [0, 0, 1, 1, 2]


def test_the_length_proposed_is_the_one_that_pays_most() -> None:
    # A pass over k + 1 positions costs 1 + 0.2 k steps and gives 1 + q + ... + q^k tokens:
    # at q = 0.7, k = 3 gives 2.533 / 1.6 = 1.58 tokens a step (k = 2: 1.56, k = 4: 1.54).
    assert best_length(0.7, K_MAX) == 3
    assert best_length(0.9, K_MAX) == 7  # 5.695 / 2.4 = 2.373 (6: 2.371, 8: 2.356)
    assert best_length(0.97, K_MAX) == K_MAX
    assert best_length(0.97, 5) == 5
    assert best_length(0.19, K_MAX) == 0  # (1 + q) / 1.2 < 1: a plain step pays more
    assert best_length(0.0, K_MAX) == 0
    shares = [0.25, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99]
    lengths = [best_length(q, K_MAX) for q in shares]
    assert lengths == sorted(lengths) and lengths[0] >= 1


def test_pacing_follows_each_class_and_pauses_a_class_that_does_not_pay() -> None:
    pacing = Pacing()
    assert pacing.wanted(2) == K_MAX  # the middle of a copy: kept at 0.97 to start with
    assert pacing.wanted(0) == best_length(PRIOR_KEPT[0], K_MAX) == 3  # a fresh short match
    assert pacing.wanted(2, limit=4) == 4
    for _ in range(3):
        pacing.record(0, 3, 3)  # all kept: more next time
    assert pacing.wanted(0) > 3
    records = 0
    while pacing.wanted(0) > 0:  # nothing kept, over and over
        pacing.record(0, 1, 0)
        records += 1
    assert 5 < records < 40
    assert pacing.wanted(2) == K_MAX  # another class is not affected
    # Off: the class passes over PAUSE_START positions (one was passed over just now), then tries one token.
    assert [pacing.wanted(0) for _ in range(PAUSE_START)] == [0] * (PAUSE_START - 1) + [1]
    pacing.record(0, 1, 0)  # the try failed: the next pause is twice as long
    assert [pacing.wanted(0) for _ in range(2 * PAUSE_START + 1)] == [0] * 2 * PAUSE_START + [1]
    pacing.record(0, 1, 1)  # this try paid: the next pause would be short, and the class is back on
    assert pacing.pauses[0] == PAUSE_START
    assert pacing.wanted(0) == 1


class FlawedDraft(DraftModel):
    """Proposes the model's own choices, with every `every`-th proposed token wrong."""

    every = 3
    made = 0

    def propose(self, tokens, limit):  # type: ignore[no-untyped-def]
        proposal = super().propose(tokens, limit)
        for i in range(len(proposal)):
            self.made += 1
            if self.made % self.every == 0:
                proposal[i] = (proposal[i] + 1) % 300
        return proposal


def drafted(tiny_gguf_engine, qtype: str, kind: type[DraftModel] = DraftModel) -> SpeculationSettings:  # type: ignore[no-untyped-def]
    """Speculation with the tiny model's own file (at `qtype`) as the draft."""
    made = tiny_gguf_engine(qtype)
    return SpeculationSettings("auto", kind(made.model, made.tokenizer, f"tiny {qtype}", made.context_length))


@pytest.mark.parametrize("draft", [None, "agreeing", "flawed"])
def test_greedy_output_is_the_same_token_for_token(engine, tiny_gguf_engine, draft: str | None) -> None:  # type: ignore[no-untyped-def]
    if draft == "agreeing":  # proposes what the model chooses (its own file at a lower precision agrees too)
        engine.speculation = drafted(tiny_gguf_engine, "Q2_K")
    elif draft == "flawed":  # rejections at every position of a proposal, over the reply
        engine.speculation = drafted(tiny_gguf_engine, "F32", FlawedDraft)
    for prompt in (REPEATS, PLAIN):
        plain = run(engine, prompt, "off")
        fast = run(engine, prompt, "auto")
        assert fast.token_ids == plain.token_ids
        assert fast.text == plain.text
        assert plain.stats.proposed_tokens == 0
        assert fast.stats.generated_tokens == GREEDY.max_new_tokens
        if draft is not None:
            assert fast.stats.proposed_tokens > 0
    if draft == "flawed":
        assert fast.stats.accepted_tokens < fast.stats.proposed_tokens  # some were rejected


def test_proposals_are_checked_and_counted(engine, tiny_gguf_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    passes: list[int] = []
    forward_kept = engine.model.forward_kept

    def counted(tokens, cache, keep):  # type: ignore[no-untyped-def]
        passes.append(len(tokens))
        return forward_kept(tokens, cache, keep)

    monkeypatch.setattr(engine.model, "forward_kept", counted)
    engine.speculation = drafted(tiny_gguf_engine, "F32")  # proposes exactly what the model chooses
    done = run(engine, PLAIN, "auto", replace(GREEDY, max_new_tokens=120))
    stats = done.stats
    assert stats.accepted_tokens == stats.proposed_tokens > 100
    decode = passes[1:]  # after the prompt's
    assert sum(n - 1 for n in decode) == stats.proposed_tokens  # each proposal ran once, after its chosen token
    # A pass for every token the model chose without knowing it: the accepted ones were free.
    unknown = stats.generated_tokens - stats.accepted_tokens
    assert unknown - 1 <= len(decode) <= unknown
    assert max(decode) == K_MAX + 1  # the run grew to the longest proposal


@pytest.mark.parametrize("length", [1, 3, 5])
def test_the_cache_rolls_back_at_every_rejection_position(engine, length: int) -> None:  # type: ignore[no-untyped-def]
    model = engine.model
    prompt = engine.encode_prompt(PLAIN)
    logits, cache = model.forward(prompt, model.empty_cache())
    chosen = int(np.argmax(logits))
    # The model's own greedy continuation after `chosen`, to propose from.
    reference, after = [], cache
    step, after = model.forward([chosen], after)
    for _ in range(length):
        token = int(np.argmax(step))
        reference.append(token)
        step, after = model.forward([token], after)
    for wrong_at in range(length + 1):  # the proposal's first wrong token (length: none wrong)
        proposal = list(reference)
        if wrong_at < length:
            proposal[wrong_at] = (proposal[wrong_at] + 1) % model.logits_buffer.shape[-1]
        check = Check()
        base = cache.truncated(len(prompt))
        checked, state = model.forward_kept([chosen, *proposal], base, len(proposal) + 1)
        current = check.start(proposal, checked)
        history = [*prompt, chosen]
        for token in reference:
            known, state = check.take(token, state, None)
            if known is None:  # the cache no longer holds the proposals
                assert len(state) == len(history)
                current, state = model.forward([token], state)
            else:
                current = known
            history.append(token)
            assert state.tokens[: len(history)] == history[: len(state.tokens)]
        assert len(state) == len(history)
        # What follows equals a fresh pass over the same tokens.
        fresh, _ = model.forward(history, model.empty_cache())
        np.testing.assert_allclose(current, fresh, rtol=1e-4, atol=1e-4)
        cache = base


def test_sampling_keeps_the_models_distribution(engine, tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    """With a draft that always proposes (the model itself, greedily), the second token is
    always checked against a proposal; its sampled pairs must follow p(t1) p(t2 | t1)."""
    draft_engine = tiny_gguf_engine("F32")
    draft = DraftModel(draft_engine.model, draft_engine.tokenizer, "draft", draft_engine.context_length)
    settings = GenerationSettings(
        temperature=1.0, top_k=4, top_p=1.0, min_p=0.0, repetition_penalty=1.0, max_new_tokens=3
    )
    engine.speculation = SpeculationSettings("auto", draft)
    prompt = engine.encode_prompt(PLAIN)
    # The exact distribution of the first two tokens.
    logits, cache = engine.model.forward(prompt, engine.model.empty_cache())
    first_ids, first_p = filtered_probabilities(logits, settings)
    exact: dict[tuple[int, int], float] = {}
    for token, p in zip(first_ids.tolist(), first_p.tolist(), strict=True):
        after, _ = engine.model.forward([token], cache)
        ids, probs = filtered_probabilities(after, settings)
        for second, q in zip(ids.tolist(), probs.tolist(), strict=True):
            exact[(token, second)] = p * q
    counts: dict[tuple[int, int], int] = {}
    samples = 1200
    checked = 0
    for seed in range(samples):
        engine.reset_cache()
        request = GenerationRequest(prompt=PLAIN, settings=replace(settings, seed=seed))
        done = next(e for e in engine.generate(request) if isinstance(e, Finished))
        pair = (done.token_ids[0], done.token_ids[1])
        counts[pair] = counts.get(pair, 0) + 1
        checked += done.stats.proposed_tokens
    assert checked >= samples  # the second token was always a checked proposal
    assert set(counts) <= set(exact)
    cells = [pair for pair, p in exact.items() if p * samples >= 5]
    observed = np.array([counts.get(pair, 0) for pair in cells], dtype=np.float64)
    expected = np.array([exact[pair] * samples for pair in cells])
    statistic = float(((observed - expected) ** 2 / expected).sum())
    # The 99.9th percentile of chi-square with len(cells) - 1 degrees of freedom is below
    # dof + 4.5 sqrt(2 dof) for the sizes here (Wilson-Hilferty).
    dof = len(cells) - 1
    assert statistic < dof + 4.5 * np.sqrt(2 * dof), (statistic, dof)


def test_a_draft_with_another_vocabulary_is_refused(engine, default_model_dir) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine.loading import load_draft

    with pytest.raises(UserError, match="different vocabularies"):
        load_draft(default_model_dir, engine, threads=1)


def test_a_draft_with_the_same_vocabulary_proposes_and_the_output_stays(engine, tiny_gguf, tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    plain = run(engine, PLAIN, "off")
    draft_engine = tiny_gguf_engine("Q8_0")  # the same file at a lower precision: a valid draft
    draft = DraftModel(draft_engine.model, draft_engine.tokenizer, "draft", draft_engine.context_length)
    draft.check_pairs_with(engine.tokenizer, "target")
    engine.speculation = SpeculationSettings("auto", draft)
    engine.reset_cache()
    fast = next(e for e in engine.generate(GenerationRequest(prompt=PLAIN, settings=GREEDY)) if isinstance(e, Finished))
    assert fast.token_ids == plain.token_ids
    assert fast.stats.proposed_tokens > 0
    assert fast.stats.accepted_tokens > fast.stats.proposed_tokens // 2  # it agrees with itself mostly


def test_lookup_only_never_asks_the_draft(engine, tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    draft_engine = tiny_gguf_engine("F32")
    draft = DraftModel(draft_engine.model, draft_engine.tokenizer, "draft", draft_engine.context_length)
    speculator = Speculator(SpeculationSettings("lookup", draft), [1, 2, 3])
    assert speculator.draft is None
    with pytest.raises(UserError, match="auto, lookup or off"):
        SpeculationSettings("always")


@pytest.mark.parametrize("qtype", ["F32", "Q4_K_M", "Q4_1"])
def test_a_checked_row_has_a_decoded_tokens_bits(tiny_gguf_engine, qtype: str) -> None:  # type: ignore[no-untyped-def]
    model = tiny_gguf_engine(qtype).model
    ids = [5 + (7 * i) % 290 for i in range(8 + K_MAX + 1)]
    cache = model.empty_cache()
    model.reserve(cache, 64)
    _, cache = model.forward_kept(ids[:8], cache, 1)
    decoded = []
    for token in ids[8:]:
        logits, cache = model.forward_kept([token], cache, 1)
        decoded.append(logits[0].copy())
    for length in (2, 5, K_MAX + 1):  # a check of up to K_MAX proposals after the chosen token
        cache = cache.truncated(8)
        checked, cache = model.forward_kept(ids[8 : 8 + length], cache, length)
        np.testing.assert_array_equal(checked, np.stack(decoded[:length]))


@pytest.mark.parametrize("qtype", ["Q4_K_M", "Q4_1"])
def test_greedy_output_is_the_same_on_quantized_weights(tiny_gguf_engine, qtype: str) -> None:  # type: ignore[no-untyped-def]
    """Proposals from the model's own file with every third token wrong: accepted runs and
    rejections at every place, on the operators' products (the random text repeats nothing
    for lookup to find)."""
    made = tiny_gguf_engine(qtype)
    made.stop_token_ids = frozenset()
    made.speculation = drafted(tiny_gguf_engine, qtype, FlawedDraft)
    for prompt in (REPEATS, PLAIN):
        plain, fast = run(made, prompt, "off"), run(made, prompt, "auto")
        assert fast.token_ids == plain.token_ids
        assert 0 < fast.stats.accepted_tokens < fast.stats.proposed_tokens


PASSAGES = (
    "Their going to the market tomorow, but they dont know what time it open. Me and my sister "
    "wants to buy apples, and we was hoping the prices is lower then last week.",
    "The report were finished late because the team have many meeting. Each of the members are "
    "responsible for they own section, and nobody have checked the numbers twice.",
    "Yesterday I goes to the library for borrow some books about history. The librarian were very "
    "helpful and she show me where the old newspaper is keeped.",
)


def test_greedy_speculation_gives_plain_decodings_text_on_the_default_model(default_model_dir) -> None:  # type: ignore[no-untyped-def]
    """The co-writer's kind of request, where lookup pays: the same tokens as plain decoding."""
    engine = load_engine(default_model_dir, "cpu", threads=2)
    settings = replace(GREEDY, max_new_tokens=90)
    accepted = 0
    for passage in PASSAGES:
        ask = f"Correct the grammar and spelling. Reply with the corrected text only.\n\n{passage}"
        request = GenerationRequest(messages=(ChatMessage("user", ask),), settings=settings)
        results = {}
        for mode in ("off", "lookup"):
            engine.speculation = replace(engine.speculation, mode=mode)
            engine.reset_cache()
            results[mode] = next(e for e in engine.generate(request) if isinstance(e, Finished))
        assert results["lookup"].token_ids == results["off"].token_ids, passage
        accepted += results["lookup"].stats.accepted_tokens
    assert accepted > 0  # lookup did propose from the passages, and was right

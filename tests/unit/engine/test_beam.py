"""Beam search gives the token sequences of transformers' generate(num_beams=...).

On a tiny random Llama, through both KV layouts the engine has (an export whose graph
returns a new present each step, and the in-place GroupQueryAttention graph of a GGUF
import), and on the default model's weights in fp32.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared
from desktop_app.engine.beam import best_continuations, log_softmax, top_candidates

PROMPTS = ["The quick brown fox", "Customer service replies should", "Paris is the capital of"]
BEAMS = GenerationSettings(num_beams=4, temperature=0.0, repetition_penalty=1.0, max_new_tokens=12)
# (num_beams, no_repeat_ngram_size, length_penalty, early_stopping, num_return_sequences)
CASES = [
    (4, 0, 1.0, False, 1),
    (5, 2, 1.0, False, 3),
    (3, 0, 0.0, True, 3),
    (4, 3, 2.0, "never", 2),
    (2, 2, -1.0, False, 2),
]


def beam_settings(beams: int, ngram: int, penalty: float, early: bool | str, returned: int, new: int) -> Any:
    return replace(
        BEAMS,
        num_beams=beams,
        no_repeat_ngram_size=ngram,
        length_penalty=penalty,
        early_stopping=early,
        num_alternatives=returned,
        max_new_tokens=new,
    )


def ours(engine: Any, text: str, settings: GenerationSettings) -> list[list[int]]:
    """The engine's sequences for a raw prompt (whose ids are engine.encode_prompt(text)),
    the end token put back where a text ended on it."""
    events = list(engine.generate(GenerationRequest(prompt=text, settings=settings)))
    done = [e for e in events if isinstance(e, Finished)]
    assert [f.index for f in done] == list(range(settings.num_alternatives))
    end = min(engine.stop_token_ids)
    return [list(f.token_ids) + ([end] if f.stats.finish_reason is FinishReason.STOP_TOKEN else []) for f in done]


def theirs(model: Any, prompt: list[int], settings: GenerationSettings, end_tokens: list[int]) -> list[list[int]]:
    import torch

    with torch.no_grad():
        out = model.generate(
            torch.tensor([prompt]),
            attention_mask=torch.ones((1, len(prompt)), dtype=torch.long),
            do_sample=False,
            num_beams=settings.num_beams,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
            length_penalty=settings.length_penalty,
            early_stopping=settings.early_stopping,
            num_return_sequences=settings.num_alternatives,
            max_new_tokens=settings.max_new_tokens,
            eos_token_id=end_tokens,
            pad_token_id=end_tokens[0],
        )
    sequences = []
    for row in out.tolist():
        generated = row[len(prompt) :]
        ends = [i for i, t in enumerate(generated) if t in end_tokens]
        sequences.append(generated[: ends[0] + 1] if ends else generated)
    return sequences


def hf_model(folder: Path, gguf_file: str | None = None) -> Any:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, torch_dtype="float32")
    model.generation_config.repetition_penalty = None
    return model.eval()


def fresh_arrays(engine: Any) -> Any:
    """The same model opened to return a new present each step (as on the CUDA provider)."""
    from desktop_app.engine.generate import Engine
    from desktop_app.engine.onnx_model import OnnxCausalLM

    model = OnnxCausalLM(engine.model.path, "cpu", 1, in_place_kv=False, max_positions=engine.context_length)
    assert not model.in_place_kv
    return Engine(model, engine.tokenizer, engine.manifest, engine.variant)


def prompt_ids(engine: Any, text: str) -> list[int]:
    return engine.encode_prompt(text)


@pytest.mark.parametrize("case", CASES, ids=[f"b{c[0]}-ng{c[1]}-lp{c[2]}-es{c[3]}-n{c[4]}" for c in CASES])
def test_the_fresh_arrays_layout_equals_transformers(tiny_engine, tiny_hf_model, case) -> None:  # type: ignore[no-untyped-def]
    engine = fresh_arrays(tiny_engine)
    model = hf_model(tiny_hf_model)
    ends = sorted(engine.stop_token_ids)
    for text in PROMPTS:
        prompt = prompt_ids(engine, text)
        settings = beam_settings(*case, new=16)
        assert ours(engine, text, settings) == theirs(model, prompt, settings, ends)


def on_a_pretend_gpu(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The same model as the CUDA provider opens it: its in-place buffers apart from the CPU's
    arrays (here CPU values made from copies, where CUDA would copy them to the GPU), and
    beams in fresh rows (the rows' numpy buffers cannot live on the GPU)."""
    from desktop_app.engine import beam, onnx_model
    from desktop_app.engine.generate import Engine
    from desktop_app.engine.providers import ProviderReport

    made = onnx_model.ort.OrtValue.ortvalue_from_numpy

    def on_the_device(array: np.ndarray, *device: Any) -> Any:  # the CPU's own calls name no device
        return made(array.copy() if device else array)

    monkeypatch.setattr(onnx_model.ort.OrtValue, "ortvalue_from_numpy", on_the_device)
    rows = beam.KVRows

    def cpu_rows(model: Any, *args: Any) -> Any:  # numpy rows: never for the GPU's model
        assert model.provider.name == "cpu"
        return rows(model, *args)

    monkeypatch.setattr(beam, "KVRows", cpu_rows)
    model = onnx_model.OnnxCausalLM(engine.model.path, "cpu", 1, True, engine.context_length)
    model.provider = ProviderReport("cuda", "a pretend GPU")
    assert model.in_place_kv and not model.rows_in_place
    return Engine(model, engine.tokenizer, engine.manifest, engine.variant)


def test_the_gpu_layouts_give_the_cpu_results(tiny_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine.onnx_model import SharedKVCache

    gpu = on_a_pretend_gpu(tiny_engine, monkeypatch)
    assert isinstance(gpu.model.empty_cache(), SharedKVCache)
    greedy = GenerationSettings(temperature=0.0, max_new_tokens=24)
    for text in PROMPTS:  # the beams start from the prompt the greedy reply left in the cache
        for settings in (greedy, beam_settings(4, 2, 1.0, False, 2, new=24)):
            assert ours(gpu, text, settings) == ours(tiny_engine, text, settings)


def test_both_layouts_agree(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    assert tiny_engine.model.in_place_kv
    settings = beam_settings(5, 2, 1.0, False, 3, new=24)
    for text in PROMPTS:
        assert ours(tiny_engine, text, settings) == ours(fresh_arrays(tiny_engine), text, settings)


@pytest.mark.parametrize("case", CASES, ids=[f"b{c[0]}-ng{c[1]}-lp{c[2]}-es{c[3]}-n{c[4]}" for c in CASES])
def test_the_in_place_layout_equals_transformers(tiny_gguf, tiny_gguf_engine, case) -> None:  # type: ignore[no-untyped-def]
    engine = tiny_gguf_engine("F32")
    assert engine.model.in_place_kv
    model = hf_model(tiny_gguf.hf_folder("llama"))
    ends = sorted(engine.stop_token_ids)
    for text in ["the fox", "code is text", "a b c"]:
        prompt = prompt_ids(engine, text)
        settings = beam_settings(*case, new=14)
        assert ours(engine, text, settings) == theirs(model, prompt, settings, ends)


def test_ending_sequences_and_texts_agree_with_their_tokens(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    """Beams that end on the end token are returned (the tiny model ends often when pushed)."""
    settings = replace(BEAMS, num_beams=6, num_alternatives=6, max_new_tokens=40, length_penalty=-2.0)
    events = list(tiny_engine.generate(GenerationRequest(prompt="Hello world!", settings=settings)))
    assert isinstance(events[0], PromptPrepared)
    done = [e for e in events if isinstance(e, Finished)]
    assert len(done) == 6
    for finished in done:
        assert finished.text == tiny_engine.tokenizer.decode(list(finished.token_ids))
        assert finished.stats.extra["num_beams"] == 6
    scores = [f.stats.extra["beam_score"] for f in done]
    assert scores == sorted(scores, reverse=True)


def test_a_step_is_one_batched_forward_pass(tiny_gguf_engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Four beams cost one forward pass a token (plus the prompt's), not four."""
    from desktop_app.engine import kv_rows

    engine = tiny_gguf_engine("F32")
    passes: list[int] = []
    real = kv_rows.KVRows.forward

    def counted(self, tokens, kept):  # type: ignore[no-untyped-def]
        passes.append(len(tokens))
        return real(self, tokens, kept)

    monkeypatch.setattr(kv_rows.KVRows, "forward", counted)
    settings = replace(BEAMS, max_new_tokens=10, early_stopping="never")
    events = list(engine.generate(GenerationRequest(prompt="the fox", settings=settings)))
    [done] = [e for e in events if isinstance(e, Finished)]
    assert set(passes) == {4}
    assert len(passes) < done.stats.generated_tokens + 1
    assert len(passes) <= settings.max_new_tokens - 1


def test_cancel_returns_the_best_so_far(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    events = []
    for event in tiny_engine.generate(GenerationRequest(prompt="The quick", settings=BEAMS), cancel):
        events.append(event)
        cancel.set()
    [done] = [e for e in events if isinstance(e, Finished)]
    assert done.stats.finish_reason is FinishReason.CANCELLED


def test_beams_and_a_json_format_are_refused_before_any_work() -> None:
    with pytest.raises(UserError, match="Beam search"):
        GenerationRequest(prompt="x", settings=BEAMS, response_format={"type": "json_object"})


def test_more_texts_than_beams_are_refused() -> None:
    with pytest.raises(UserError, match="beam"):
        replace(BEAMS, num_alternatives=5)


def test_top_candidates_are_sorted_with_ties_to_the_lower_index() -> None:
    scores = np.array([0.5, 2.0, 2.0, -1.0, 3.0], dtype=np.float32)
    assert top_candidates(scores, 3).tolist() == [4, 1, 2]
    assert top_candidates(scores, 9).tolist() == [4, 1, 2, 0, 3]


@pytest.mark.slow
def test_the_default_model_in_fp32_equals_transformers(smollm2_gguf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The default model's own weights (its Q4_1 file dequantized by llama.cpp to F32),
    imported by Inkwell and loaded by transformers from the same file."""
    from desktop_app.engine import load_engine
    from desktop_app.models.prepare import prepare_model

    source = smollm2_gguf("F32")
    engine = load_engine(prepare_model(source, tmp_path, model_id="smollm2-f32"), provider="cpu")
    model = hf_model(source.parent, source.name)
    ends = sorted(engine.stop_token_ids)
    settings = replace(BEAMS, num_beams=5, no_repeat_ngram_size=2, max_new_tokens=20, num_alternatives=2)
    for question in ["What is the capital of France?", "Write a short thank-you note to a customer."]:
        text = engine.template.render([ChatMessage("user", question)])
        prompt = engine.encode_prompt(text)
        assert ours(engine, text, settings) == theirs(model, prompt, settings, ends)


def test_the_batch_leaves_beam_searches_to_the_engine(tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine.batch import BatchDecoder

    batch = BatchDecoder(tiny_gguf_engine("F32"), 4)
    assert batch.fits(GenerationRequest(prompt="x", settings=replace(BEAMS, num_beams=1)))
    assert not batch.fits(GenerationRequest(prompt="x", settings=BEAMS))


def test_the_quick_ranking_equals_ranking_every_total() -> None:
    """best_continuations ranks a few candidates above a floor; ranking every total of the
    log-softmax gives the same continuations and totals, ties and banned tokens included."""
    rng = np.random.default_rng(7)
    for trial in range(300):
        beams, vocab, k = int(rng.integers(1, 6)), int(rng.choice([3, 50, 5000])), 0
        k = int(rng.integers(1, 2 * beams + 3))
        logits = (rng.standard_normal((beams, vocab)) * rng.choice([0.1, 3.0, 20.0])).astype(np.float32)
        if trial % 4 == 0:
            logits = np.round(logits)  # ties
        scores = (np.sort(rng.standard_normal(beams))[::-1] * 5).astype(np.float32)
        banned = [
            rng.choice(vocab, size=min(vocab - 1, 3), replace=False) if rng.random() < 0.5 else None
            for _ in range(beams)
        ]
        full = log_softmax(logits)
        for beam, tokens in enumerate(banned):
            if tokens is not None:
                full[beam, tokens] = -np.inf
        totals = (full + scores[:, None]).ravel()
        want = top_candidates(totals, k)
        got, got_totals = best_continuations(logits, scores, banned, k)
        assert got.tolist() == want.tolist(), trial
        assert got_totals.tolist() == totals[want].tolist(), trial

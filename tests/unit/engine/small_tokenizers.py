"""Small tokenizers of both kinds, built in a few milliseconds, for grammar tests."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

from desktop_app.engine.tokenizer import Tokenizer

CORPUS = [
    'The quick brown fox jumps over the lazy dog. {"name": "Zoë", "age": 42}',
    "Hello world! Café, naïve, 日本語, emoji 👋🙂 and more text.",
    "Tabs\tand\nnewlines, [1, 2, 3], true, false, null.",
] * 10
TEXTS = ['{"name": "Zoë", "tags": ["👋", "日本語"], "n": -12.5e3}', "Café\tnaïve\n  👋🙂 end", " leading and trailing "]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def byte_level_bpe(tmp_path: Path, decoder: decoders.Decoder | None = None) -> Tokenizer:
    """A GPT-2-style vocabulary: every byte a printable character, a space is 'Ġ'."""
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoder or decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    hf.train_from_iterator(CORPUS, trainer)
    hf.save(str(tmp_path / "bpe.json"))
    return Tokenizer(tmp_path / "bpe.json")


def sentencepiece_bpe(tmp_path: Path) -> Tokenizer:
    """A Llama-2-style vocabulary: '▁' for a space, '<0xNN>' pieces for bytes with no piece of their own."""
    pieces = ["<unk>", "<s>", "</s>", *(f"<0x{byte:02X}>" for byte in range(256)), "▁"]
    pieces += [chr(code) for code in range(ord("!"), ord("~") + 1)]
    merges = [("▁", "t"), ("h", "e"), ("▁t", "he"), ("a", "m"), ("n", "am"), ("▁", '"')]
    pieces += [left + right for left, right in merges]
    vocab = {piece: index for index, piece in enumerate(pieces)}
    hf = HFTokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True))
    hf.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    hf.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    hf.add_special_tokens(["<s>", "</s>"])
    hf.save(str(tmp_path / "spm.json"))
    return Tokenizer(tmp_path / "spm.json")

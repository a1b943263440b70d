"""A GGUF file's vocabulary as a Hugging Face `tokenizers` Tokenizer that splits text as llama.cpp does.

Only the `tokenizers` library is needed (no transformers, no torch), so the installed app
can import GGUF files and an import does not wait seconds for imports.

Two tokenizer models are read (tokenizer.ggml.model), as llama.cpp's src/llama-vocab.cpp
reads them:
- "gpt2": byte-level BPE from tokens and merges. The text is first split by the regular
  expressions that tokenizer.ggml.pre names (PRE_TOKENIZERS below, llama.cpp's per-type
  tables), each applied to the pieces the one before left, then merged within each piece.
  Some types take a piece that is itself a token whole ("ignore merges").
- "llama": SentencePiece-style. Spaces become ▁ (with one in front of each stretch of text
  between special tokens where add_space_prefix is on), and the pair whose joined text is
  the best-scoring token is merged first; a character with no token falls back to its
  UTF-8 bytes (<0xNN>). This is BPE whose merges are every split of every token, ranked by
  that token's score.
Other models (t5, bert, rwkv, ...) and pre-tokenizer types missing from the table are a
UserError naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

# llama.cpp's token types (llama_token_type)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class PreTokenizer:
    """How a byte-level BPE vocabulary splits text before merging (one llama.cpp pre type)."""

    regexes: tuple[str, ...]  # applied in turn, each splitting what the one before left
    ignore_merges: bool = False  # a piece that is itself a token is taken whole
    add_bos: bool = False  # llama.cpp's choice where the file does not say (add_bos_token)


# The regular expressions as llama.cpp spells them (its std::regex-friendly forms: the
# case-insensitive contractions written out, and Tekken's upper/lower classes as lookaheads).
_CONTRACTIONS = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
LLAMA3 = _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
TEKKEN = (
    r"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+"
    r"|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*"
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
GPT4O = (
    r"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+" + _CONTRACTIONS + "?"
    r"|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*" + _CONTRACTIONS + "?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SEED_CODER = _CONTRACTIONS + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"
_CJK = "[一-龥ࠀ-一가-퟿]+"

_DEFAULT = PreTokenizer((r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", "[0-9][0-9][0-9]"))
_LLAMA3 = PreTokenizer((LLAMA3,), ignore_merges=True, add_bos=True)
_DEEPSEEK_CODER = PreTokenizer(("[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", _CJK, r"\p{N}"))
_DEEPSEEK3 = PreTokenizer(
    (
        r"\p{N}{1,3}",
        "[一-龥぀-ゟ゠-ヿ]+",
        r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
        r"| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    )
)

# tokenizer.ggml.pre -> how it splits, by llama.cpp's names (llama_vocab::impl::load); the
# names on one line are its aliases of one type. Others are refused by name.
_NAMES: list[tuple[str, PreTokenizer]] = [
    ("default", _DEFAULT),
    ("llama3 llama-v3 llama-bpe falcon3 falcon-h1 pixtral midm-2.0 lfm2", _LLAMA3),
    ("dbrx smaug-bpe", PreTokenizer((LLAMA3,))),
    ("qwen2 deepseek-r1-qwen megrez stablelm2 kormo f2llmv2 hunyuan solar-open", PreTokenizer((QWEN2,))),
    ("smollm starcoder refact command-r codeshell exaone minerva-7b mellum2", PreTokenizer((r"\p{N}", GPT2))),
    ("gpt-2 phi-2 mpt olmo jais exaone4 mellum a.x-4.0 gigachat trillion granite-docling", PreTokenizer((GPT2,))),
    ("tekken", PreTokenizer((TEKKEN,), ignore_merges=True, add_bos=True)),
    ("gpt-4o llama4 kanana2", PreTokenizer((GPT4O,))),
    ("seed-coder", PreTokenizer((SEED_CODER,))),
    ("viking", PreTokenizer((r" ?[^(\s|.,!?…。，、।۔،)]+", r"\p{N}"))),
    ("deepseek-coder", _DEEPSEEK_CODER),
    ("deepseek-v3", _DEEPSEEK3),
]
PRE_TOKENIZERS: dict[str, PreTokenizer] = {name: pre for names, pre in _NAMES for name in names.split()}


def build_vocab_tokenizer(fields: dict[str, Any], file_name: str) -> Any:
    """The tokenizers.Tokenizer of a GGUF file's tokenizer.ggml.* metadata (`fields`)."""
    tokens = fields.get("tokenizer.ggml.tokens")
    if not isinstance(tokens, list) or not tokens:
        raise UserError(
            translate("Errors", "{file} has no tokenizer in its metadata (tokenizer.ggml.tokens).").format(
                file=file_name
            )
        )
    model = fields.get("tokenizer.ggml.model")
    types = _list_of(fields.get("tokenizer.ggml.token_type"), len(tokens), NORMAL)
    if model == "gpt2":
        pre = fields.get("tokenizer.ggml.pre") or "default"  # llama.cpp: none means "default"
        if pre not in PRE_TOKENIZERS:
            raise UserError(
                translate(
                    "Errors",
                    "The tokenizer of {file} splits text in a way Inkwell does not know yet "
                    "(tokenizer.ggml.pre = {pre}).",
                ).format(file=file_name, pre=repr(pre)),
                hint=translate(
                    "Errors",
                    "It knows {count} of llama.cpp's, among them llama-bpe (Llama 3), qwen2, smollm, gpt-2, tekken "
                    "(Mistral Nemo), deepseek-coder and deepseek-v3.",
                ).format(count=len(PRE_TOKENIZERS)),
            )
        return _byte_level_bpe(tokens, fields.get("tokenizer.ggml.merges"), PRE_TOKENIZERS[pre], file_name)
    if model == "llama":
        scores = _list_of(fields.get("tokenizer.ggml.scores"), len(tokens), 0.0)
        prefix = fields.get("tokenizer.ggml.add_space_prefix")
        unk = fields.get("tokenizer.ggml.unknown_token_id", 0)
        unk_text = tokens[unk] if isinstance(unk, int) and 0 <= unk < len(tokens) else None
        return _sentencepiece(tokens, scores, types, unk_text, True if prefix is None else bool(prefix))
    raise UserError(
        translate(
            "Errors",
            "The tokenizer of {file} is of a kind Inkwell cannot read yet (tokenizer.ggml.model = {model}).",
        ).format(file=file_name, model=repr(model)),
        hint=translate("Errors", 'Inkwell reads "gpt2" (byte-level BPE) and "llama" (SentencePiece) vocabularies.'),
    )


def default_add_bos(fields: dict[str, Any]) -> bool:
    """Whether llama.cpp starts a prompt with BOS when the file has no add_bos_token: always
    for SentencePiece vocabularies, for BPE where the pre-tokenizer type says so (Llama 3)."""
    if fields.get("tokenizer.ggml.model") == "llama":
        return True
    pre = PRE_TOKENIZERS.get(fields.get("tokenizer.ggml.pre") or "default")
    return pre is not None and pre.add_bos


def _list_of(values: Any, length: int, default: Any) -> list[Any]:
    return values if isinstance(values, list) and len(values) == length else [default] * length


def _vocabulary(tokens: list[str]) -> dict[str, int]:
    # A text twice in the list reads as its last id, as llama.cpp's token_to_id does.
    return {token: index for index, token in enumerate(tokens)}


def _byte_level_bpe(tokens: list[str], merges: Any, pre: PreTokenizer, file_name: str) -> Any:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    if not isinstance(merges, list) or not merges:
        raise UserError(
            translate("Errors", "{file} has a BPE vocabulary without merges (tokenizer.ggml.merges).").format(
                file=file_name
            )
        )
    vocab = _vocabulary(tokens)
    pairs = []
    for merge in merges:
        cut = merge.find(" ", 1) if isinstance(merge, str) else -1
        left, right = (merge[:cut], merge[cut + 1 :]) if cut > 0 else ("", "")
        # llama.cpp ranks a merge it can never use without complaint; tokenizers refuses it.
        if left in vocab and right in vocab and left + right in vocab:
            pairs.append((left, right))
    tokenizer = Tokenizer(models.BPE(vocab, pairs, ignore_merges=pre.ignore_merges))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in pre.regexes]
        + [pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def _sentencepiece(
    tokens: list[str], scores: list[float], types: list[int], unk: str | None, add_space_prefix: bool
) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers

    vocab = _vocabulary(tokens)
    # Every token whose text two others join to is a merge, ranked by that token's score
    # (llama.cpp merges the adjacent pair whose joined text scores best). Its ties go to the
    # leftmost pair, which a rank cannot say; the ties real files have are user-defined
    # tokens (runs of spaces or newlines, scored 0) with the first merge (also 0), and
    # ranking the user-defined first gives the leftmost pair there: "▁▁" before "▁t" in "▁▁t".
    pairs: dict[tuple[str, str], None] = {}
    for index in sorted(range(len(tokens)), key=lambda i: (-scores[i], types[i] == NORMAL, i)):
        piece = tokens[index]
        if types[index] == BYTE or vocab.get(piece) != index:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                pairs.setdefault((left, right))
    tokenizer = Tokenizer(models.BPE(vocab, list(pairs), unk_token=unk, byte_fallback=True, fuse_unk=True))
    # llama.cpp puts the space in front of every stretch of text after a special token too:
    # the normalizer runs on each stretch between added tokens.
    spaces = [normalizers.Replace(" ", "▁")]
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), *spaces] if add_space_prefix else spaces)
    steps = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
    if add_space_prefix:
        steps.append(decoders.Strip(" ", 1, 0))
    tokenizer.decoder = decoders.Sequence(steps)
    return tokenizer

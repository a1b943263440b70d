"""The tokenizer.json an import writes splits text exactly as llama.cpp splits the same GGUF.

Each file's vocabulary is rebuilt with the `tokenizers` library alone (gguf_vocab.py) and
must give llama.cpp's ids (no BOS) for a set of awkward texts, and decode back to them:
every tiny architecture's file (SentencePiece for llama, mistral, gemma2/3 and phi3;
byte-level BPE for SmolLM and Qwen), the default model's own GGUF, and a byte-level BPE
vocabulary tagged with each pre-tokenizer type Inkwell knows (tokenizer.ggml.pre), trained
so that the types split those texts differently (checked too, so a wrong regex cannot pass).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from desktop_app.models.gguf_file import GGUFFile
from desktop_app.models.gguf_tokenizer import write_tokenizer
from desktop_app.models.gguf_vocab import PRE_TOKENIZERS
from tests.models import oracle
from tests.models.tiny_gguf import ARCHS, TRAINING_TEXT

TEXTS = [
    "Hello world",
    " leading space",
    "   three leading spaces",
    "two  spaces  inside",
    "trailing   ",
    "line\nbreak",
    "\n\nblank lines\n\n\nhere\n",
    "tab\there\t\tand  \t mixed",
    "1234567 and 3.14159, 42, 1,000,000",
    "Punctuation!? (yes) [no] {maybe}: a;b -- 'quoted' \"double\" ...!!!",
    "Café naïve façade Ελληνικά русский Ærø",
    "中文字符测试 日本語のテキスト 한국어",
    "emoji 👋🙂🎉 and 👩‍👩‍👧",
    "def f(x):\n    return x ** 2  # code\n\tif x<=0: pass\n",
    "I'm you're they'll we've it's DON'T",
    "ÉCOLE aÉb camelCaseWord HTTPServer iPhone",
    "non\u00a0breaking\u2003em space",
    "<b>html</b> &amp; x<y>z $5+3=8 ^~|",
    "\r\nwindows\r\n",
    "a zebra crossing",
    "Done.\nNext!\n\nEnd;\n",
    " ",
    "\n",
]
# A vocabulary whose merges cross every boundary some pre-tokenizer draws (digits, case,
# spaces, newlines, punctuation), so each type's split shows in the ids.
CROSSING_TEXT = [
    *TRAINING_TEXT,
    "123 4567 89012 1,000,000 3.14159 2024-05-17 0x1F 99 bottles",
    "camelCaseWord HTTPServer iPhone McDonald ÉCOLE École aÉb",
    "I'm you're they'll we've it's DON'T 'quoted' \"double\"",
    "  two spaces\n\n  indented\n\tTabbed\r\nwindows  \n",
    "Punctuation!? (yes) [no] {maybe}: a;b -- ... $5+3=8 <=> ^~| <b>html</b>",
    "def f(x):\n    return x ** 2  # code\n",
    "Done.\nNext!\n\nEnd;\nStop.\n",
    "中文字符测试 日本語のテキスト 한국어 Ελληνικά русский",
]
PRE_TYPES = sorted(PRE_TOKENIZERS)
# One name of each distinct way of splitting (the others are llama.cpp's aliases of it).
DISTINCT = list({pre: name for name, pre in reversed(PRE_TOKENIZERS.items())}.values())


def our_tokenizer(gguf: Path, folder: Path) -> Any:
    from tokenizers import Tokenizer

    write_tokenizer(GGUFFile(gguf), folder)
    return Tokenizer.from_file(str(folder / "tokenizer.json"))


def assert_as_llama_cpp(gguf: Path, folder: Path, round_trip: bool = True) -> None:
    """Our ids are llama.cpp's, and decode back to the text (where llama.cpp's own ids do)."""
    tokenizer = our_tokenizer(gguf, folder)
    wrong = []
    for text in TEXTS:
        ours = tokenizer.encode(text, add_special_tokens=False).ids
        theirs = oracle.llama_tokenize(gguf, text, add_bos=False)
        back = tokenizer.decode(ours, skip_special_tokens=False)
        if ours != theirs or (round_trip and back != text):
            wrong.append(f"{text!r}: ours {ours}, llama.cpp {theirs}, decoded {back!r}")
    assert not wrong, f"{gguf.name}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_each_architecture_s_vocabulary_splits_as_llama_cpp(arch: str, tiny_gguf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert_as_llama_cpp(tiny_gguf(arch, "Q8_0"), tmp_path)


def test_the_default_model_s_vocabulary_splits_as_llama_cpp(llama_cpp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.models.workspace import locate_default_gguf

    assert_as_llama_cpp(locate_default_gguf(), tmp_path)


def write_vocab_gguf(path: Path, pre: str, vocab: tuple[list[str], list[str], list[int]]) -> Path:
    """A GGUF with a Llama's hyperparameters and a byte-level BPE vocabulary, no tensors:
    all llama.cpp's vocab_only load reads."""
    import gguf

    tokens, merges, types = vocab
    writer = gguf.GGUFWriter(str(path), "llama")
    for key, value in (("block_count", 1), ("context_length", 256), ("embedding_length", 64),
                       ("feed_forward_length", 128), ("attention.head_count", 2)):  # fmt: skip
        writer.add_uint32(f"llama.{key}", value)
    writer.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    writer.add_string("tokenizer.ggml.model", "gpt2")
    writer.add_string("tokenizer.ggml.pre", pre)
    writer.add_array("tokenizer.ggml.tokens", tokens)
    writer.add_array("tokenizer.ggml.token_type", types)
    writer.add_array("tokenizer.ggml.merges", merges)
    writer.add_uint32("tokenizer.ggml.bos_token_id", tokens.index("<|begin_of_text|>"))
    writer.add_uint32("tokenizer.ggml.eos_token_id", tokens.index("<|end_of_text|>"))
    writer.add_bool("tokenizer.ggml.add_bos_token", True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def crossing_vocab() -> tuple[list[str], list[str], list[int]]:
    """Tokens, merges and token types of a byte-level BPE trained without splitting the text,
    and one token no merge makes."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    special = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1500, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(CROSSING_TEXT * 8, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    tokens = [t for t, _ in sorted(model["vocab"].items(), key=lambda item: item[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    # A word no merge makes: whole only where the type takes a token whole (Llama 3, Tekken).
    tokens.append("Ġzebra")
    return tokens, merges, [3 if t in special else 1 for t in tokens]


@pytest.mark.parametrize("pre", PRE_TYPES)
def test_each_pre_tokenizer_type_splits_as_llama_cpp(pre: str, crossing_vocab, llama_cpp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert_as_llama_cpp(write_vocab_gguf(tmp_path / f"{pre}.gguf", pre, crossing_vocab), tmp_path)


def test_the_pre_tokenizer_types_differ_on_these_texts(crossing_vocab, llama_cpp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Else the test above could pass with one type's regex standing in for another's."""
    assert len(DISTINCT) >= 12
    ids = {}
    for pre in DISTINCT:
        gguf = write_vocab_gguf(tmp_path / f"{pre}.gguf", pre, crossing_vocab)
        ids[pre] = [oracle.llama_tokenize(gguf, text, add_bos=False) for text in TEXTS]
    same = [(a, b) for a, b in itertools.combinations(DISTINCT, 2) if ids[a] == ids[b]]
    assert not same, f"llama.cpp splits these texts alike for {same}"


def llama_tokenize_special(gguf: Path, text: str) -> list[int]:
    """llama.cpp's ids with special tokens read as such (as a chat template's text is)."""
    llama_cpp = oracle.load_llama_cpp()
    with oracle.native_output():
        llm = llama_cpp.Llama(str(gguf), vocab_only=True, verbose=False)
    try:
        return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
    finally:
        llm.close()


@pytest.mark.parametrize("arch", ["llama", "gemma2", "qwen2", "smollm"])
def test_special_tokens_are_found_in_text_as_llama_cpp_finds_them(arch: str, tiny_gguf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each is one id, and SentencePiece's space prefix follows each of them as in llama.cpp."""
    gguf = tiny_gguf(arch, "Q8_0")
    tokenizer = our_tokenizer(gguf, tmp_path)
    source = GGUFFile(gguf)
    tokens = source.field("tokenizer.ggml.tokens")
    bos, eos = (tokens[source.field(f"tokenizer.ggml.{key}_token_id")] for key in ("bos", "eos"))
    for text in (f"{bos}Hello{eos} world", f"{bos} two\n{eos}{bos}{eos}", f"x{eos}\n{bos}  y"):
        ours = tokenizer.encode(text, add_special_tokens=False).ids
        assert ours == llama_tokenize_special(gguf, text), text
        assert tokenizer.token_to_id(bos) in ours


def retagged(source: Path, target: Path, strings: dict[str, str], remove: list[str]) -> Path:
    """A copy of `source` with string metadata set and keys removed."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, arch=reader.fields["general.architecture"].contents(), endianess=reader.endianess)
    details = {key: MetadataDetails(gguf.GGUFValueType.STRING, value) for key, value in strings.items()}
    copy_with_new_metadata(reader, writer, details, remove)
    return target


def test_a_llama_3_style_file_imports_and_reads_prompts_as_llama_cpp(tiny_gguf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Llama 3's pre-tokenizer (llama-bpe) on a byte-level vocabulary, and no add_bos_token in
    the file: llama.cpp then starts prompts with BOS, and so does the imported model."""
    from desktop_app.engine import load_engine
    from desktop_app.models.prepare import prepare_model

    source = tiny_gguf("smollm", "Q8_0")
    gguf = retagged(source, tmp_path / "llama3-style.gguf", {"tokenizer.ggml.pre": "llama-bpe"},
                    ["tokenizer.ggml.add_bos_token"])  # fmt: skip
    assert GGUFFile(gguf).field("tokenizer.ggml.add_bos_token") is None
    engine = load_engine(prepare_model(gguf, tmp_path / "models", model_id="llama3-style"), "cpu", threads=1)
    assert engine.manifest.special_tokens["add_bos_token"] is True
    for text in [t for t in TEXTS if t.strip()]:
        assert engine.encode_prompt(text) == oracle.llama_tokenize(gguf, text, add_bos=True), text


def write_spm_gguf(path: Path, fields: dict[str, Any]) -> Path:
    """A vocabulary-only GGUF of a SentencePiece ("llama") vocabulary, as write_vocab_gguf."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    for key, value in (("block_count", 1), ("context_length", 256), ("embedding_length", 64),
                       ("feed_forward_length", 128), ("attention.head_count", 2)):  # fmt: skip
        writer.add_uint32(f"llama.{key}", value)
    writer.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    writer.add_string("tokenizer.ggml.model", "llama")
    writer.add_array("tokenizer.ggml.tokens", fields["tokens"])
    writer.add_array("tokenizer.ggml.scores", fields["scores"])
    writer.add_array("tokenizer.ggml.token_type", fields["types"])
    for key in ("bos", "eos", "unknown"):
        writer.add_uint32(f"tokenizer.ggml.{key}_token_id", fields[key])
    writer.add_bool("tokenizer.ggml.add_space_prefix", fields["add_space_prefix"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("add_space_prefix", [True, False], ids=["llama-like", "gemma-like"])
def test_a_sentencepiece_vocabulary_with_user_tokens_splits_as_llama_cpp(  # type: ignore[no-untyped-def]
    add_space_prefix: bool, tiny_gguf, tmp_path: Path
) -> None:
    """As Gemma's: runs of spaces and newlines as user-defined tokens (scored 0, so merged
    first), control tokens for turns, unused ones; in plain text and among special tokens."""
    source = GGUFFile(tiny_gguf("llama", "F32"))
    tokens = list(source.field("tokenizer.ggml.tokens"))
    scores = list(source.field("tokenizer.ggml.scores"))
    types = list(source.field("tokenizer.ggml.token_type"))
    extra = [("▁▁", 4), ("▁▁▁▁", 4), ("\n\n", 4), ("\t\t", 4), ("<start_of_turn>", 3), ("<end_of_turn>", 3),
             ("<unused0>", 5), ("<b>", 4)]  # fmt: skip
    for text, kind in extra:
        tokens.append(text)
        scores.append(0.0)
        types.append(kind)
    fields = {"tokens": tokens, "scores": scores, "types": types, "add_space_prefix": add_space_prefix,
              "bos": 1, "eos": 2, "unknown": 0}  # fmt: skip
    gguf = write_spm_gguf(tmp_path / "spm.gguf", fields)
    # With a space prefix llama.cpp writes one after each user-defined token too ("\n\n▁blank"),
    # so there its ids do not decode to the text: only the ids are compared.
    assert_as_llama_cpp(gguf, tmp_path, round_trip=not add_space_prefix)
    tokenizer = our_tokenizer(gguf, tmp_path)
    chat = "<start_of_turn>user\nHi  there<end_of_turn>\n<start_of_turn>model\n  <b>x</b>\n\n\tdone<end_of_turn>"
    assert tokenizer.encode(chat, add_special_tokens=False).ids == llama_tokenize_special(gguf, chat)

"""A tiny sentence-embedding model the tests build: a one-layer BERT whose vectors are a bag
of words, saved as a sentence-transformers folder (mean pooling) for `inkwell models import`.

Random weights would give vectors that mean nothing, and a test of search by meaning needs
vectors that do. So the weights are set by hand: each word of the vocabulary gets a random
256-dimensional vector (words named as synonyms share one, which is the "meaning" the model
knows), the special tokens and the stopwords get zero, positions add nothing, and every
layer's output projections are small, so that the residual path carries each word's vector
through nearly unchanged (they are small, not zero, so that attention's mask and padding
still matter). Mean pooling then gives the average of the text's word vectors: two texts
are close when they share (or share synonyms of) their telling words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
DIMENSIONS = 256


def build_tiny_embedding_folder(folder: Path, texts: Iterable[str], synonyms: dict[str, str]) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    from desktop_app.store.words import STOPWORDS

    folder.mkdir(parents=True, exist_ok=True)
    words = sorted({w for text in texts for w in re.findall(r"\w+", text.lower())} | set(synonyms))
    vocab = {token: i for i, token in enumerate(SPECIALS + [w for w in words if w not in SPECIALS])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "cls_token": "[CLS]",
                "sep_token": "[SEP]",
                "pad_token": "[PAD]",
                "unk_token": "[UNK]",
                "mask_token": "[MASK]",
                "model_max_length": 256,
            }
        )
    )
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=DIMENSIONS,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    model = BertModel(config, add_pooling_layer=False)
    generator = torch.Generator().manual_seed(0)
    table = torch.randn(len(vocab), DIMENSIONS, generator=generator)
    for word, same_as in synonyms.items():
        table[vocab[word]] = table[vocab[same_as]]
    for token in SPECIALS + [w for w in STOPWORDS if w in vocab]:
        table[vocab[token]] = 0.0
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.copy_(table)
        model.embeddings.position_embeddings.weight.zero_()
        model.embeddings.token_type_embeddings.weight.zero_()
        for layer in model.encoder.layer:
            for dense in (layer.attention.output.dense, layer.output.dense):
                # small: each word keeps its vector; not zero: attention and the feed-forward
                # layers still count, so a wrong mask, padding or quantization shows
                dense.weight.normal_(0.0, 0.02, generator=generator)
                dense.bias.zero_()
    model.save_pretrained(folder)
    write_sentence_files(folder, DIMENSIONS, max_tokens=128)
    return folder


def write_sentence_files(folder: Path, dimensions: int, max_tokens: int) -> None:
    """The sentence-transformers files beside a BERT folder: mean pooling, normalised, at
    most `max_tokens` tokens (what `inkwell models import` reads them for)."""
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ]
        )
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": dimensions, "pooling_mode_mean_tokens": True})
    )
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_tokens}))

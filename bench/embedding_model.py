"""A sentence-embedding model of all-MiniLM-L6-v2's shape for the benchmarks: random weights
(the machine has no model hub to fetch the real one from, and speed and memory depend on
the shape alone), a WordPiece vocabulary of the same size trained on the benchmark's text,
mean pooling and 256 tokens at most, as that model's sentence-transformers files say.
Imported through Inkwell's own route (`inkwell models import FOLDER`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# all-MiniLM-L6-v2's config.json and sentence_bert_config.json
SHAPE = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536}
VOCAB, MAX_TOKENS = 30522, 256


def build_minilm_shaped(folder: Path, texts: Iterable[str]) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel

    from tests.embedding_model import write_sentence_files  # the checkout's root is on sys.path

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=VOCAB, special_tokens=SPECIALS))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "cls_token": "[CLS]", "sep_token": "[SEP]",
                    "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]", "model_max_length": 512})
    )  # fmt: skip
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), max_position_embeddings=512, **SHAPE)
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    write_sentence_files(folder, SHAPE["hidden_size"], MAX_TOKENS)
    return folder

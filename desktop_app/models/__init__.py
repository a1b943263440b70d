"""The model registry and model preparation (GGUF or Hugging Face folder -> ONNX).

Layers, lowest first (import-linter holds them, see pyproject.toml): graph (ONNX graph
helpers), grids (GGUF grids in numpy), workspace (files of a preparation) and registry
(installed models); fusion and gguf_exact (graph rewrites); onnx_tools (quantization);
export (the Hugging Face/optimum route) and gguf_import (the GGUF route: its graph with onnx,
its tokenizer with `tokenizers` alone, gguf_vocab); prepare on top. A GGUF file needs only
onnx, which the installed app carries; a Hugging Face folder the `export` extra (torch,
transformers, optimum). Those imports stay inside functions so the running app never loads
them.
"""

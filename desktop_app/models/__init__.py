"""The model registry and model preparation (GGUF or Hugging Face folder -> ONNX).

Layers, lowest first (import-linter holds them, see pyproject.toml): graph (ONNX graph
helpers), grids (GGUF grids in numpy), workspace (files of a preparation) and registry
(installed models); fusion and gguf_exact (graph rewrites); onnx_tools (quantization);
export (the Hugging Face/optimum route); prepare on top. Preparation needs the `export`
extra (torch, transformers, optimum, onnx); those imports stay inside functions so the
running app never loads them.
"""

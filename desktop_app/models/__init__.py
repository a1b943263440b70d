"""The model registry and model preparation (GGUF or Hugging Face folder -> ONNX).

Preparation needs the `export` extra (torch, transformers, optimum); those imports stay
inside functions so the running app never loads them.
"""

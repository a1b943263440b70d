"""Plain data types and errors shared by every layer (no Qt, no onnxruntime, no torch)."""

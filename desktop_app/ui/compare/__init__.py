"""Compare mode: two models or settings answer one prompt blind; the votes rank them."""

"""Pinned TFLite Micro / CMSIS-NN sources, source selection and per-CPU kernel choice."""

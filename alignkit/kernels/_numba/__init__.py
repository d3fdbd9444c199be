"""Numba kernels. Arrays in, arrays out; no validation happens here."""

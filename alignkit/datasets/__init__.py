"""Generators of sequences and images with known ground-truth alignments.

- Sequences: :func:`make_ecg_pair`, :func:`make_warped_collection`,
  :func:`make_warped_spirals`, :func:`make_nonlinear_views`,
  :func:`warp_views`, :func:`warp_to_path`.
- Images: :func:`make_digit_canvas`, :func:`digit_images`, :class:`DigitCanvas`.
- Attention tasks: :func:`make_warped_copy`, :func:`make_digit_captions`.
"""

from ._attention import make_digit_captions, make_warped_copy
from ._images import DigitCanvas, digit_images, make_digit_canvas
from ._sequences import (
    make_ecg_pair,
    make_nonlinear_views,
    make_warped_collection,
    make_warped_spirals,
    warp_to_path,
    warp_views,
)

__all__ = [
    "DigitCanvas",
    "digit_images",
    "make_digit_canvas",
    "make_digit_captions",
    "make_ecg_pair",
    "make_nonlinear_views",
    "make_warped_collection",
    "make_warped_copy",
    "make_warped_spirals",
    "warp_to_path",
    "warp_views",
]

"""Pictures of alignments (needs matplotlib: ``pip install alignkit[plot]``).

Importing this package is cheap; matplotlib is imported when a function is
first called, and a missing matplotlib raises an :class:`ImportError` that
names the ``alignkit[plot]`` extra.
"""

from ._alignment import AlignmentDisplay, plot_alignment
from ._attention_maps import AttentionMapDisplay
from ._cost_matrix import CostMatrixDisplay, plot_cost_matrix
from ._history import TrainingHistoryDisplay
from ._multiview import CanonicalVariatesDisplay, MultiAlignmentDisplay
from ._spatial import GlimpseDisplay, SamplingGridDisplay

__all__ = [
    "AlignmentDisplay",
    "AttentionMapDisplay",
    "CanonicalVariatesDisplay",
    "CostMatrixDisplay",
    "GlimpseDisplay",
    "MultiAlignmentDisplay",
    "SamplingGridDisplay",
    "TrainingHistoryDisplay",
    "plot_alignment",
    "plot_cost_matrix",
]

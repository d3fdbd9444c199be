"""Pictures of alignments (needs matplotlib: ``pip install alignkit[plot]``).

Importing this package is cheap; matplotlib is imported when a function is
first called, and a missing matplotlib raises an :class:`ImportError` that
names the ``alignkit[plot]`` extra.
"""

from ._alignment import plot_alignment
from ._cost_matrix import plot_cost_matrix

__all__ = ["plot_alignment", "plot_cost_matrix"]

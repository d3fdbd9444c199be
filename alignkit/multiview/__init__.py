"""Multi-view alignment: canonical correlation, time-warp bases and GCTW.

- :func:`gctw`, :class:`MultiAlignment`: generalised canonical time warping of
  many sequences (Zhou & De la Torre 2012).
- ``_cca``: the one CCA module (multi-set CCA and the CTW objective) that
  CTW, GCTW and deep CTW share.
- ``_basis``: the monotone time-warp bases GCTW optimises over.
"""

from ._gctw import MultiAlignment, gctw

__all__ = ["MultiAlignment", "gctw"]

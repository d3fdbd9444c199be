"""The parsed window of a DTW problem: one frozen value, resolved and clamped per problem.

:func:`alignkit.validation.check_window` is the one parser; everything below it
(drivers, kernels) receives a :class:`Window` and never parses again. A window
holds at most one of its constraint fields; none means no constraint.

The value knows nothing of kernels. :meth:`Window.resolve` clamps it to one
problem, and the kernels' ``window_spec`` clamps a radius to the longest
sequence the kernel will see, so that a radius at least as large as the
problem (``sys.maxsize`` and beyond included) is "no constraint" and never
reaches a kernel as a number that overflows an int64.
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Window"]


@dataclass(frozen=True, eq=False)
class Window:
    """A parsed DTW window: a Sakoe-Chiba radius or fraction, an Itakura slope, or a mask.

    Built by :func:`alignkit.validation.check_window`; at most one field is set,
    and none means no constraint.

    Parameters
    ----------
    radius : int or None, default=None
        Sakoe-Chiba band of ``radius`` timepoints around the diagonal.
    fraction : float or None, default=None
        Sakoe-Chiba band of radius ``round(fraction * max(n, m))`` (the UCR
        archive's convention), in ``[0, 1]``.
    slope : float or None, default=None
        Itakura parallelogram of maximum slope ``slope >= 1``.
    mask : ndarray of bool of shape (n, m) or None, default=None
        The cells a path may visit.

    Examples
    --------
    >>> import sys
    >>> from alignkit.core.window import Window
    >>> Window(radius=sys.maxsize).resolve(4, 5)
    Window()
    >>> Window(fraction=0.1).resolve(40, 30)
    Window(radius=4)
    """

    radius: int | None = None
    fraction: float | None = None
    slope: float | None = None
    mask: np.ndarray | None = None

    def __post_init__(self):
        given = [v is not None for v in (self.radius, self.fraction, self.slope, self.mask)]
        if sum(given) > 1:
            raise ValueError("a Window holds at most one of radius, fraction, slope and mask")

    @property
    def kind(self) -> str:
        """``"full"``, ``"sakoe_chiba"``, ``"itakura"`` or ``"mask"``."""
        if self.mask is not None:
            return "mask"
        if self.slope is not None:
            return "itakura"
        if self.radius is not None or self.fraction is not None:
            return "sakoe_chiba"
        return "full"

    @property
    def is_full(self) -> bool:
        """True when the window constrains nothing, whatever the problem size."""
        return self.kind == "full"

    def radius_for(self, n: int, m: int) -> int | None:
        """The Sakoe-Chiba radius for an ``n`` by ``m`` problem, at most ``max(n, m)``.

        None for a window that is not a Sakoe-Chiba band.
        """
        longest = max(n, m)
        if self.fraction is not None:
            # The same float operations as the band kernels: floor(w * L + 0.5).
            return min(int(math.floor(self.fraction * longest + 0.5)), longest)
        if self.radius is not None:
            return min(self.radius, longest)
        return None

    def resolve(self, n: int, m: int) -> "Window":
        """This window for problems of at most ``n`` by ``m``, clamped to that size.

        A Sakoe-Chiba radius is clamped to ``max(n, m)``, and a band that covers
        every cell (a radius of at least ``max(n, m)``) becomes the full window.
        A fraction becomes its radius for these lengths, so ``(n, m)`` must be
        the exact problem (over a collection, each pair resolves its own).

        Parameters
        ----------
        n, m : int
            The lengths of the two sequences.

        Returns
        -------
        window : Window
        """
        if self.fraction is not None or self.radius is not None:
            radius = self.radius_for(n, m)
            return Window() if radius >= max(n, m) else Window(radius=radius)
        return self

    def __repr__(self):
        fields = [
            f"{name}={getattr(self, name)!r}"
            for name in ("radius", "fraction", "slope")
            if getattr(self, name) is not None
        ]
        if self.mask is not None:
            fields.append(f"mask=<{self.mask.shape[0]}x{self.mask.shape[1]} bool>")
        return f"Window({', '.join(fields)})"

    def __eq__(self, other):
        if not isinstance(other, Window):
            return NotImplemented
        same_mask = (self.mask is None and other.mask is None) or (
            self.mask is not None
            and other.mask is not None
            and np.array_equal(self.mask, other.mask)
        )
        return (self.radius, self.fraction, self.slope) == (
            other.radius,
            other.fraction,
            other.slope,
        ) and same_mask

    def __hash__(self):
        mask = None if self.mask is None else (self.mask.shape, self.mask.tobytes())
        return hash((self.radius, self.fraction, self.slope, mask))

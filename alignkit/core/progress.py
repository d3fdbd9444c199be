"""Progress of long calls: one bar for pairwise matrices, clustering, training and the CLI.

:func:`progress_bar` opens a bar that shows the items done out of the total,
the percentage, the rate (items per second, averaged since the start) and the
time left (the items left at that rate); the closing line shows the time the
whole call took. Where the bar is drawn decides how:

- a terminal: one line, redrawn in place with ``"\\r"`` (at most ten times a
  second), ended by the closing line;
- anything else (a log file, a pipe, pytest's capture, a Jupyter notebook):
  one line at every tenth of the work (or every ``every`` items) and the
  closing line, never a ``"\\r"``;
- a worker (a process other than the main one, such as a joblib/loky worker,
  or a thread other than the main one): lines as in a log, prefixed with the
  worker (``[worker <pid>]`` or the thread's name), at most one every 5
  seconds besides the closing line.

With ``alignkit.set_config(progress="tqdm")`` the bar is ``tqdm.auto.tqdm``
(a widget in a notebook) when tqdm is installed, except in workers. Output
goes to ``sys.stderr`` as it is at the time of writing, and a failing stream
silences the bar instead of failing the computation.

Parallel work is counted in the process that waits for the results, as they
arrive, never by the workers.
"""

import multiprocessing
import sys
import threading
import time
import warnings
from types import TracebackType
from typing import Any, TextIO

from .._config import get_config

__all__ = ["Progress", "progress_bar", "progress_requested"]

# The clock of every bar, read through the module so that a test can set it.
_clock = time.monotonic

_REDRAW_INTERVAL = 0.1  # seconds between two redraws of a terminal line
_WORKER_INTERVAL = 5.0  # seconds between two lines of a bar in a worker
_LOG_STEPS = 10  # lines of a bar in a log: one every tenth of the work


def progress_requested(verbose: int | bool) -> bool:
    """Whether a long call shows a bar: ``verbose`` is truthy or the ``progress`` config is.

    Public functions and estimators resolve this once and pass the result to
    the drivers they call, so that a driver called from inside another long
    call (the k-means++ seeding of a k-means fit) stays quiet.

    Parameters
    ----------
    verbose : int or bool
        The caller's ``verbose`` parameter.

    Returns
    -------
    requested : bool

    Examples
    --------
    >>> import alignkit
    >>> from alignkit.core.progress import progress_requested
    >>> progress_requested(0), progress_requested(1)
    (False, True)
    >>> with alignkit.config_context(progress=True):
    ...     progress_requested(0)
    True
    """
    return bool(verbose) or bool(get_config()["progress"])


def progress_bar(
    total: int,
    desc: str,
    verbose: int | bool = 1,
    *,
    unit: str = "it",
    initial: int = 0,
    every: int | None = None,
    stream: TextIO | None = None,
) -> "Progress":
    """Open a progress bar of ``total`` items (silent unless ``verbose`` is truthy).

    Parameters
    ----------
    total : int
        Items of the whole call (pairs, iterations, epochs).
    desc : str
        What is counted, first on every line (``"pairwise DTW"``).
    verbose : int or bool, default=1
        Draw the bar when truthy; otherwise the bar counts but prints nothing.
        Callers pass :func:`progress_requested` of their own ``verbose``.
    unit : str, default="it"
        Name of the items, after the count and in the rate.
    initial : int, default=0
        Items already done before this call (a warm-started training); the
        rate counts only the items done since the bar opened.
    every : int, default=None
        Outside a terminal, print a line every ``every`` items (and the
        closing line); ``None`` means every tenth of ``total - initial``.
    stream : file-like, default=None
        Where to write; ``None`` means ``sys.stderr`` at the time of writing.

    Returns
    -------
    bar : Progress
        A context manager; ``bar.update(n, **postfix)`` counts ``n`` more
        items and shows ``postfix`` (such as ``loss=0.25``) after the times.
        Leaving the ``with`` block (or ``bar.close()``) prints the closing
        line.

    See Also
    --------
    progress_requested : Whether a call shows a bar.

    Examples
    --------
    >>> import io
    >>> from alignkit.core.progress import progress_bar
    >>> out = io.StringIO()
    >>> with progress_bar(4, "pairwise DTW", unit="pairs", stream=out) as bar:
    ...     bar.update(4)
    >>> out.getvalue().split(" | ")[0]
    'pairwise DTW 4/4 pairs 100%'
    """
    if verbose and get_config()["progress"] == "tqdm" and _worker_label() is None:
        tqdm = _import_tqdm()
        if tqdm is not None:
            return _TqdmProgress(tqdm, total, desc, unit=unit, initial=initial, stream=stream)
    return Progress(
        total, desc, unit=unit, initial=initial, every=every, stream=stream, enabled=bool(verbose)
    )


def _import_tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn(
            "alignkit's config asks for progress='tqdm' but tqdm is not installed "
            "(pip install tqdm); using alignkit's own progress bar",
            stacklevel=3,
        )
        return None
    return tqdm


def _worker_label():
    """``"worker <pid>"`` in a child process, the thread's name in a thread, else None."""
    process = multiprocessing.current_process()
    if process.name != "MainProcess" or multiprocessing.parent_process() is not None:
        return f"worker {process.pid}"
    thread = threading.current_thread()
    if thread is not threading.main_thread():
        return thread.name
    return None


def _format_seconds(seconds):
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _format_rate(rate):
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if rate >= factor:
            return f"{rate / factor:.3g}{suffix}"
    return f"{rate:.3g}"


def _format_value(value):
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class Progress:
    """The built-in progress bar that :func:`progress_bar` opens.

    Parameters
    ----------
    total : int
        Items of the whole call.
    desc : str
        What is counted, first on every line.
    unit : str, default="it"
        Name of the items.
    initial : int, default=0
        Items already done when the bar opens.
    every : int, default=None
        Items between two lines outside a terminal; ``None``: a tenth of the work.
    stream : file-like, default=None
        Where to write; ``None`` means ``sys.stderr`` at the time of writing.
    enabled : bool, default=True
        Print anything at all.

    Attributes
    ----------
    n : int
        Items done so far (``initial`` included).
    total : int
        Items of the whole call.

    Examples
    --------
    >>> import io
    >>> from alignkit.core.progress import Progress
    >>> out = io.StringIO()
    >>> with Progress(3, "fit", unit="iterations", stream=out) as bar:
    ...     bar.update(1, inertia=2.5)
    ...     bar.set_total(1)  # converged early
    >>> line = out.getvalue().splitlines()[-1]
    >>> line.startswith("fit 1/1 iterations 100%"), line.endswith("inertia=2.5")
    (True, True)
    """

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        unit: str = "it",
        initial: int = 0,
        every: int | None = None,
        stream: TextIO | None = None,
        enabled: bool = True,
    ):
        self.total, self.desc, self.unit = int(total), desc, unit
        self.n = self._initial = int(initial)
        self._stream, self.enabled = stream, enabled
        self._postfix: dict[str, Any] = {}
        self._start = self._last_draw = _clock()
        self._worker = _worker_label()
        self._terminal = self._worker is None and _is_terminal(self._out())
        self._step = every if every else max(self.total - self._initial, 1) / _LOG_STEPS
        self._next_line = self._initial + self._step
        self._width = 0  # length of the terminal line drawn last, with its padding
        self._finished = self._closed = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:  # end a half-drawn terminal line so that the traceback starts on its own
            self._closed = True
            if self.enabled and self._terminal and self._width:
                self._write("\n")

    def update(self, n: int = 1, **postfix: Any) -> None:
        """Count ``n`` more items and show ``postfix`` after the times.

        Parameters
        ----------
        n : int, default=1
            Items just done.
        **postfix
            Values shown as ``key=value`` (floats with 6 significant digits).
        """
        self.n += int(n)
        self._postfix.update(postfix)
        if not self.enabled or self._closed or self._finished:
            return
        now = _clock()
        if self.n >= self.total:
            self._draw(now)
        elif self._terminal:
            if now - self._last_draw >= _REDRAW_INTERVAL:
                self._draw(now)
        elif self.n >= self._next_line:
            done = self.n - self._initial
            self._next_line = self._initial + (done // self._step + 1) * self._step
            if self._worker is None or now - self._last_draw >= _WORKER_INTERVAL:
                self._draw(now)

    def set_total(self, total: int) -> None:
        """Change the total (a run that converged early); draws the closing line if it is met.

        Parameters
        ----------
        total : int
            The new number of items of the whole call.
        """
        self.total = int(total)
        if self.enabled and not self._closed and not self._finished and self.n >= self.total:
            self._draw(_clock())

    def close(self) -> None:
        """Print the closing line (the count reached and the time taken), once."""
        if self._closed:
            return
        self._closed = True
        if self.enabled and not self._finished:
            self._draw(_clock(), closing=True)

    def line(self, now: float | None = None, closing: bool = False) -> str:
        """The text of the bar at time ``now``: count, percentage, rate, time left, postfix.

        Parameters
        ----------
        now : float, default=None
            A reading of the bar's clock; ``None`` reads it.
        closing : bool, default=False
            Show the time taken instead of the time left (also when all items are done).

        Returns
        -------
        line : str
            Such as ``"pairwise DTW 40/100 pairs 40% | 20 pairs/s | ETA 0:03"``.
        """
        now = _clock() if now is None else now
        elapsed, done = now - self._start, self.n - self._initial
        count = f"{self.n}/{self.total}" + (f" {self.unit}" if self.unit else "")
        percent = 100 * self.n // self.total if self.total > 0 else 100
        rate = done / elapsed if elapsed > 0 and done > 0 else None
        speed = f"{'?' if rate is None else _format_rate(rate)} {self.unit or 'it'}/s"
        if closing or self.n >= self.total:
            when = f"{_format_seconds(elapsed)} elapsed"
        else:
            when = f"ETA {'?' if rate is None else _format_seconds((self.total - self.n) / rate)}"
        parts = [f"{self.desc} {count} {percent}%", speed, when]
        if self._postfix:
            parts.append(" ".join(f"{k}={_format_value(v)}" for k, v in self._postfix.items()))
        return " | ".join(parts)

    def _draw(self, now, closing=False):
        final = closing or self.n >= self.total
        text = self.line(now, closing)
        self._last_draw = now
        self._finished = self.n >= self.total
        if self._terminal:
            padding = " " * max(self._width - len(text), 0)  # cover a longer line drawn before
            self._width = 0 if final else len(text) + len(padding)
            self._write(f"\r{text}{padding}" + ("\n" if final else ""))
        else:
            prefix = f"[{self._worker}] " if self._worker else ""
            self._write(f"{prefix}{text}\n")

    def _out(self):
        return self._stream if self._stream is not None else sys.stderr

    def _write(self, text):
        stream = self._out()
        if stream is None:  # pythonw and some services run without a stderr
            return
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed or broken: go quiet, never fail
            self.enabled = False


def _is_terminal(stream):
    """A stream that redraws a line in place: a tty, outside a Jupyter kernel."""
    if stream is None or "ipykernel" in sys.modules:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


class _TqdmProgress:
    """:class:`Progress`'s interface over ``tqdm.auto.tqdm``."""

    def __init__(self, tqdm, total, desc, *, unit, initial, stream):
        self._bar = tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit=unit,
            file=stream if stream is not None else sys.stderr,
        )

    @property
    def n(self):
        return self._bar.n

    @property
    def total(self):
        return self._bar.total

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.close()

    def update(self, n=1, **postfix):
        if postfix:
            self._bar.set_postfix({k: _format_value(v) for k, v in postfix.items()}, refresh=False)
        self._bar.update(n)

    def set_total(self, total):
        self._bar.total = total
        self._bar.refresh()

    def close(self):
        self._bar.close()

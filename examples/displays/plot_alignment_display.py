"""
AlignmentDisplay: the matches between two sequences
===================================================

:class:`~alignkit.plotting.AlignmentDisplay` draws two sequences one above the
other and joins the points the path matches. Above 300 matched pairs it shades
how many match lines cross each part of the band between the sequences instead
of drawing a blob of lines; ``max_lines`` or ``matches="lines"`` asks for lines.
"""

# %%
# Lines or density
# ----------------
# ``from_alignment`` draws an :class:`~alignkit.Alignment` that exists already;
# the dashed lines are the true path the ECG pair was generated with.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.datasets import make_ecg_pair
from alignkit.plotting import AlignmentDisplay

a, b, true_path = make_ecg_pair()
alignment = alignkit.dtw(a, b, window=0.1)
figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), layout="constrained")
lines = AlignmentDisplay.from_alignment(alignment, a, b, ax=top, max_lines=80, true_path=true_path)
shaded = AlignmentDisplay.from_alignment(alignment, a, b, ax=bottom, true_path=true_path)
print(f"{len(alignment.path)} matched pairs; top: {len(lines.matches_.get_segments())} lines")
print("each row of the density counts every pair:", int(shaded.density_.get_array().sum(axis=1)[0]))

# %%
# From an aligner, restyled through its artists
# ---------------------------------------------
# ``from_estimator`` calls the aligner's ``align(a, b)``. The artists are
# attributes: here the match lines turn red and the legend moves.
display = AlignmentDisplay.from_estimator(
    alignkit.DTWAligner(window=0.1), a, b, max_lines=60, labels=("recording a", "recording b")
)
display.matches_.set_color("tab:red")
display.legend_.set_loc("upper right")

# %%
# Different channel counts
# ------------------------
# Sequences of two modalities may have different channel counts (CTW aligns
# them); ``channels="all"`` draws each sequence's own channels.
rng = np.random.default_rng(0)
video = np.cumsum(rng.standard_normal((40, 3)), axis=0)
audio = np.cumsum(rng.standard_normal((55, 5)), axis=0)
uniform = alignkit.UniformAligner().align(video[:, 0], audio[:, 0])
display = AlignmentDisplay.from_alignment(
    uniform, video, audio, channels="all", labels=("video", "audio")
)
print(f"drawn: {len(display.lines_a_)} video and {len(display.lines_b_)} audio channels")
plt.show()

"""Knowledge pays in the dividend (issue 10's acceptance check): in the Education Model 3.0
mix, setting the knowledge-transfer, feedback and spillover rates to zero lowers D(W) by a
paired amount whose 95% interval excludes zero.

On the small region of test_say_no.py (300 firms, three years, 3.0 mix, platform from month
12); the full-size check on ``model_3_0`` is a command in docs/reading-the-dividend.md.
"""

from __future__ import annotations

import numpy as np
from test_say_no import SEEDS, dividend

from experiments.analysis import paired_interval

NO_KNOWLEDGE_FLOWS = dict(transfer_rate=0.0, feedback_rate=0.0, spillover_share=0.0)


def test_knowledge_flows_raise_the_dividend():
    on, off = dividend(SEEDS), dividend(SEEDS, **NO_KNOWLEDGE_FLOWS)
    iv = paired_interval(off - on)
    assert iv.high < 0, f"D(W) change without knowledge flows: {iv}, per seed {off - on}"
    # The flows carry a visible part of the dividend, not a rounding error of it.
    assert -iv.mean > 0.05 * float(np.mean(on)), (iv.mean, np.mean(on))

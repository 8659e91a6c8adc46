"""Knowledge pays in the dividend (issue 10's acceptance check): in the Education Model 3.0
mix, setting the knowledge-transfer, feedback and spillover rates to zero lowers D(W) by a
paired amount whose 95% interval excludes zero.

On the small region of test_say_no.py (300 firms, 3.0 mix, platform from month 12) over five
years (FIVE_YEARS there): knowledge pays through productivity as stocks build up, while the
firms' project outlays (subtracted in W) are paid at once, and firms decline offers that teach
them nothing, so without the flows they also save those outlays. Over three years the two
nearly cancel: the change is -0.2 MCU [-1.9, +1.5] (6 seeds); over five years it is -10.9
[-17.1, -4.6] (spawn keys 0-5) and -18.1 [-28.7, -7.4] (keys 6-13). The full-size check on
``model_3_0`` is a command in docs/reading-the-dividend.md.
"""

from __future__ import annotations

import numpy as np
from test_say_no import FIVE_YEARS, SEEDS, dividend

from experiments.analysis import paired_interval

NO_KNOWLEDGE_FLOWS = dict(transfer_rate=0.0, feedback_rate=0.0, spillover_share=0.0)


def test_knowledge_flows_raise_the_dividend():
    on = dividend(SEEDS, **FIVE_YEARS)
    off = dividend(SEEDS, **FIVE_YEARS, **NO_KNOWLEDGE_FLOWS)
    iv = paired_interval(off - on)
    assert iv.high < 0, f"D(W) change without knowledge flows: {iv}, per seed {off - on}"
    # The flows carry a visible part of the dividend, not a rounding error of it.
    assert -iv.mean > 0.05 * float(np.mean(on)), (iv.mean, np.mean(on))

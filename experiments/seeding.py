"""The seeding rule of every batch command, and its root seeds.

Replication j of any configuration runs on ``SeedSequence(root_seed, spawn_key=(j,))``, so two
configurations run on the same j share their random numbers (common random numbers) whatever
else differs, and a batch gives the same results on any executor and any number of workers.
Estimators that need random numbers of their own (the validation bootstrap) draw from a stream
no replication uses, ``AUXILIARY_STREAM``.

No heavy import here: the command line reads the seeds for its ``--help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ROOT_SEED = 20261128
# Calibration fits on other seeds than the ones validation checks on, so that validation of a
# calibrated region is out of sample.
CALIBRATION_SEED = 20261127
# The last spawn key: a replication index no batch reaches.
AUXILIARY_STREAM = 2**32 - 1


def seed_sequence(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication`` under ``root_seed``."""
    import numpy as np

    return np.random.SeedSequence(root_seed, spawn_key=(replication,))

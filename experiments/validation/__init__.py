"""Validation of the region against its calibration targets (``helixsim validate``).

``targets`` holds the stylized facts with their ranges; ``estimators`` the statistics on plain
arrays and the bootstrap over seeds; ``observations`` what one run gives validation and the
statistics on pooled runs; ``figures`` the report; ``harness`` runs it all. The method is
described in docs/validation.md.
"""

from .estimators import (
    DEFAULT_BOOTSTRAP,
    Estimate,
    NotEstimableError,
    PowerLawFit,
    Statistic,
    VolatilityFit,
    annual_growth,
    ccdf,
    coefficient_of_variation,
    estimate_or_reason,
    fit_power_law,
    growth_sums,
    growth_volatility,
    kaplan_meier,
    kaplan_meier_counts,
    seed_bootstrap,
    skewness,
    survival_at,
    survival_data,
    top_share,
    volatility_from_sums,
)
from .harness import REGIONS, run_seeds, validate
from .observations import (
    CIS_WINDOW,
    DEFAULT_HORIZON,
    STATISTICS,
    SeedData,
    cohort_table,
    observe,
    pool,
    pooled_survival,
)
from .targets import (
    TARGET_BY_KEY,
    TARGETS,
    Target,
    distance,
    format_value,
    table_frame,
    target_rows,
    verdict,
)

__all__ = [
    "CIS_WINDOW", "DEFAULT_BOOTSTRAP", "DEFAULT_HORIZON", "REGIONS", "STATISTICS",
    "TARGETS", "TARGET_BY_KEY", "Estimate", "NotEstimableError", "PowerLawFit", "SeedData",
    "Statistic", "Target", "VolatilityFit", "annual_growth", "ccdf", "coefficient_of_variation",
    "cohort_table", "distance", "estimate_or_reason", "fit_power_law", "format_value",
    "growth_sums", "growth_volatility", "kaplan_meier", "kaplan_meier_counts", "observe",
    "pool", "pooled_survival", "run_seeds", "seed_bootstrap", "skewness", "survival_at",
    "survival_data", "table_frame", "target_rows", "top_share", "validate", "verdict",
    "volatility_from_sums",
]

"""Least-squares power laws with a t-interval on the exponent (THEORY §4.3, "Power laws"); the
Student-t quantile is scipy's."""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


def t_quantile(p, df):
    """The p-quantile of Student's t with df degrees of freedom, 0.5 <= p < 1."""
    if not 0.5 <= p < 1.0 or df <= 0:
        raise ValueError(f"t_quantile: p = {p}, df = {df}")
    return float(stats.t.ppf(p, df))


@dataclass
class LineFit:
    """y = intercept + slope·x by least squares; slope interval from the t distribution."""
    n: int
    slope: float
    intercept: float
    stderr: float       # standard error of the slope (nan when n < 3)
    quantile: float     # t_{(1+level)/2, n-2}
    low: float
    high: float

    def excludes(self, value):
        """Whether the interval lies wholly on one side of value (False without an interval)."""
        return bool(self.low > value or self.high < value)


def fit_line(x, y, level=0.95):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n < 2:
        raise ValueError("fit_line: fewer than two points")
    xm, ym = x.mean(), y.mean()
    sxx = np.sum((x - xm) ** 2)
    slope = float(np.sum((x - xm) * (y - ym)) / sxx)
    intercept = float(ym - slope * xm)
    if n < 3:
        nan = float("nan")
        return LineFit(n, slope, intercept, nan, nan, nan, nan)
    resid = y - (intercept + slope * x)
    stderr = float(math.sqrt(np.sum(resid ** 2) / (n - 2) / sxx))
    q = t_quantile(0.5 + level / 2.0, n - 2)
    return LineFit(n, slope, intercept, stderr, q, slope - q * stderr, slope + q * stderr)


def nearest_record(t, target):
    """Index of the record whose t is nearest target (the first on ties); t may hold NaN."""
    t = np.asarray(t, dtype=float)
    distance = np.where(np.isfinite(t), np.abs(t - target), np.inf)
    return int(np.argmin(distance))

"""Least-squares power laws with a t-interval on the exponent, in numpy and the standard
library. The Student-t quantile is bisected to the last bit on the incomplete beta function
rather than taken from scipy.stats.t.ppf, whose inversion is some 1e-10 from the closed forms
(df = 1, 2, 4) that the report's tests hold this one to within 1e-12."""

import math
from dataclasses import dataclass

import numpy as np


def _betacf(a, b, x):
    """Continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return h


def _betainc(a, b, x):
    """I_x(a, b), the regularised incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_upper_tail(t, df):
    """P(T > t) for Student's t with df degrees of freedom, t >= 0."""
    return 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(p, df):
    """The p-quantile of Student's t, 0.5 <= p < 1 (bisection to the last bit)."""
    if not 0.5 <= p < 1.0 or df <= 0:
        raise ValueError(f"t_quantile: p = {p}, df = {df}")
    tail = 1.0 - p
    lo, hi = 0.0, 1.0
    while t_upper_tail(hi, df) > tail:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_upper_tail(mid, df) > tail:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


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

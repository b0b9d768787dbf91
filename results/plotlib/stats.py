# SPDX-License-Identifier: MIT
"""results/plotlib/stats.py - the statistics of gclab summary and compare, in Python.

The same algorithms as harness/analysis/resample.c, so the numbers agree to the last digit:
median (mean of the two middle values), quantiles by linear interpolation (type 7), the
sample CV, and percentile-bootstrap intervals (2000 resamples of the sorted sample drawn by
splitmix64 from the fixed seed 0x67636c6162000001; the draws of resample b are always the
n draws after those of resample b - 1, so the numpy path and the loop agree). Ratio
intervals (boot_ratio_ci) are gcl_boot_ratio_ci's: BASE on stream 0, NEW on stream 1,
ratio of the two resample medians. Nothing here reads files or draws figures.
"""
import math

RESAMPLES = 2000
SEED = 0x67636C6162000001
LEVEL = 0.95
NOISY_CV = 0.05
MIN_N = 3
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next() * n) >> 64


def median_sorted(x):
    n = len(x)
    return x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2


def quantile_sorted(x, p):
    h = (len(x) - 1) * p
    i = int(math.floor(h))
    if i + 1 >= len(x):
        return x[-1]
    return x[i] + (h - i) * (x[i + 1] - x[i])


def boot_medians_numpy(np, x, seed):
    """The RESAMPLES resample medians of the sorted sample x, drawn exactly as the loop in
    boot_median_ci draws them (draw k of the stream is splitmix64 of seed + k * golden,
    below(n) the high 64 bits of z * n), but vectorised: a few million draws per batch.
    O(n) per resample at C speed instead of Python speed (a cell of 14000 repetitions took
    ~20 s per cell in the loop, well under one here)."""
    n = len(x)
    xs = np.asarray(x, dtype=np.float64)
    k1, k2 = (n - 1) // 2, n // 2
    u = np.uint64
    per = max(1, min(RESAMPLES, (1 << 21) // n))  # resamples per batch
    out, done = [], 0
    with np.errstate(over="ignore"):
        for b0 in range(0, RESAMPLES, per):
            m = min(per, RESAMPLES - b0)
            z = u(seed) + np.arange(done + 1, done + m * n + 1, dtype=u) * u(0x9E3779B97F4A7C15)
            done += m * n
            z = (z ^ (z >> u(30))) * u(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> u(27))) * u(0x94D049BB133111EB)
            z ^= z >> u(31)
            # floor(z * n / 2^64) without 128 bits: n < 2^32, so neither product overflows.
            idx = ((z >> u(32)) * u(n) + (((z & u(0xFFFFFFFF)) * u(n)) >> u(32))) >> u(32)
            idx = np.partition(idx.reshape(m, n).astype(np.int64), (k1, k2), axis=1)
            out.extend(((xs[idx[:, k1]] + xs[idx[:, k2]]) / 2).tolist())
    return out


def boot_median_ci(x, stream=0):
    """95% percentile-bootstrap CI of the median of the sorted sample x (len >= 2)."""
    return interval(boot_medians(x, stream))


def cv_of(x):
    n = len(x)
    if n < 2:
        return None
    mean = sum(x) / n
    if mean == 0:
        return None
    ss = sum((v - mean) ** 2 for v in x)
    return math.sqrt(ss / (n - 1)) / abs(mean)


class Stat:
    """Median, CI and noise flags of one sample (values from status=ok rows)."""

    def __init__(self, values):
        x = sorted(values)
        self.values = x  # the sorted sample
        self.n = len(x)
        self.median = median_sorted(x) if x else None
        self.lo, self.hi = boot_median_ci(x) if self.n >= 2 else (None, None)
        self.cv = cv_of(x)
        self.noisy = (self.cv is not None and self.cv > NOISY_CV) or self.n < MIN_N



def boot_medians(x, stream):
    """The RESAMPLES resample medians of the sorted sample x on stream STREAM (len >= 2)."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None and len(x) < (1 << 31):
        return boot_medians_numpy(np, x, SEED + stream)
    rng = SplitMix64(SEED + stream)
    out = []
    n = len(x)
    for _ in range(RESAMPLES):
        counts = [0] * n
        for _ in range(n):
            counts[rng.below(n)] += 1
        res = [v for v, c in zip(x, counts) for _ in range(c)]
        out.append(median_sorted(res))
    return out


def interval(stats):
    """The LEVEL percentile interval of a list of resample statistics."""
    s = sorted(stats)
    return quantile_sorted(s, (1 - LEVEL) / 2), quantile_sorted(s, 1 - (1 - LEVEL) / 2)


def ratio_resamples(base, new, stream=0):
    """Resample ratios median(NEW*) / median(BASE*) (BASE on STREAM, NEW on STREAM + 1),
    or None when a BASE resample median is 0 (gcl_boot_ratio_ci refuses then too)."""
    mb = boot_medians(sorted(base), stream)
    mn = boot_medians(sorted(new), stream + 1)
    if any(b == 0 for b in mb):
        return None
    return [n / b for n, b in zip(mn, mb)]


def boot_ratio_ci(base, new):
    """gclab compare's 95% interval of median(NEW) / median(BASE); None when n < 2 on a
    side or a BASE resample has median 0."""
    if len(base) < 2 or len(new) < 2:
        return None
    r = ratio_resamples(base, new, 0)
    return interval(r) if r is not None else None


def geomean(v):
    """Geometric mean of positive numbers."""
    return math.exp(sum(math.log(x) for x in v) / len(v))

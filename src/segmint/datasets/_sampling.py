"""Vectorised sampling helpers of the generator: lookup tables, days, minutes."""

from __future__ import annotations

from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.datasets._tables import (
    ARCHETYPES,
    CHANNEL_WEIGHTS,
    CHANNELS,
    COUNTRIES,
    HOUR_WEIGHTS,
    RES,
    RES_BITS,
    STR,
    lookup_table,
)


def uniform16(rng: np.random.Generator, size: int) -> np.ndarray:
    """Uniform integers in ``[0, 2**16)``, the random input of the lookup tables."""
    return rng.integers(0, RES, size=size, dtype=np.uint16)


def draw_from(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one item per element from row ``group`` of a :func:`lookup_table`."""
    group = np.asarray(group, dtype=np.int64)
    return cast(np.ndarray, table[(group << RES_BITS) | uniform16(rng, group.size)])


def sample_days(
    rng: np.random.Generator,
    day_cdf: np.ndarray,
    profile: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Draw a day in ``[lo, hi)`` per element, with the demand of its day profile.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    day_cdf : numpy.ndarray
        ``(n_profiles, n_days + 1)`` cumulative demand, starting at 0 and ending at 1.
    profile : numpy.ndarray
        Demand profile per element.
    lo, hi : numpy.ndarray
        Window per element, ``0 <= lo < hi <= n_days``.

    Returns
    -------
    numpy.ndarray
        Day offset from the start of the period, per element (``int64``).
    """
    width = day_cdf.shape[1]
    stacked = (day_cdf + np.arange(day_cdf.shape[0])[:, None]).ravel()  # row p in [p, p+1]
    base = np.asarray(profile, dtype=np.int64) * width
    c_lo, c_hi = stacked[base + lo], stacked[base + hi]
    target = c_lo + rng.random(lo.size) * (c_hi - c_lo)
    day = np.searchsorted(stacked, target, side="right") - 1 - base
    return cast(np.ndarray, np.clip(day, lo, hi - 1))


def minute_of_day(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Minute of the day of an order placed through ``channel``."""
    hour = draw_from(rng, _HOUR_TABLE, channel).astype(np.int64)
    return hour * 60 + rng.integers(0, 60, size=channel.size)


def pick(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``min(k, n)`` distinct indices out of ``range(n)``, sorted."""
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def prefixed(values: pa.Array, prefix: str) -> pa.Array:
    """Strings ``prefix + value``."""
    return pc.utf8_replace_slice(values, start=0, stop=0, replacement=prefix)


_HOUR_TABLE = lookup_table(HOUR_WEIGHTS)
CHANNEL_TABLE = lookup_table(CHANNEL_WEIGHTS)
CHANNEL_ARRAY = pa.array(CHANNELS, type=STR)
COUNTRY_ARRAY = pa.array(COUNTRIES, type=STR)
ARCHETYPE_ARRAY = pa.array(ARCHETYPES, type=STR)

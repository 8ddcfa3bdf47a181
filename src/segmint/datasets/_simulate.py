"""One chunk of customers: archetype behaviour, returns and dirt, as numpy arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmint.datasets._sampling import (
    ARCHETYPE_ARRAY,
    CHANNEL_ARRAY,
    CHANNEL_TABLE,
    COUNTRY_ARRAY,
    draw_from,
    minute_of_day,
    pick,
    prefixed,
    sample_days,
    uniform16,
)
from segmint.datasets._tables import (
    ANNUAL_ORDERS,
    ARCHETYPES,
    CHANNELS,
    COUNTRIES,
    COUNTRY_P,
    DAY_NS,
    DAY_PROFILE,
    DEFAULT_WEIGHTS,
    DISCOUNT_VALUES,
    GUEST,
    GUEST_ROW_SHARE,
    HOME_COUNTRY,
    LAPSING,
    LINES_MEAN,
    LOYAL,
    LOYAL_RECENT_DAYS,
    MAX_LINES,
    MIN_ORDERS,
    MINUTE_NS,
    NEW,
    ONE_OFF,
    P_BANK_CHARGES,
    P_DUPLICATE,
    P_MANUAL,
    P_POSTAGE_ABROAD,
    P_POSTAGE_HOME,
    P_PREFERRED_CHANNEL,
    P_RETURN,
    P_ZERO_PRICE,
    POSTAGE_PRICES,
    RECENT_DAYS,
    RES_BITS,
    SCHEMA,
    STR,
    TRUTH_SCHEMA,
    demand_calendar,
    product_catalogue,
)
from segmint.errors import UsageError


# ---------------------------------------------------------------------------------------
# One chunk of customers
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    start_day: int
    n_days: int
    dirty: bool
    probs: np.ndarray
    id_width: int


@dataclass(frozen=True)
class _Chunk:
    """A generated chunk: compact numpy columns, turned into Arrow rows on demand.

    Invoices are in time order; rows are grouped by invoice in that order.
    """

    row_invoice: np.ndarray  # per row: index of its invoice (int32)
    product: np.ndarray  # per row: catalogue index (int16)
    quantity: np.ndarray  # per row (int32)
    price: np.ndarray  # per row: price paid (float64)
    discount: np.ndarray  # per row: index into DISCOUNT_VALUES (int16)
    invoice_no: pa.Array  # per invoice
    invoice_ts: np.ndarray  # per invoice, ns since the epoch
    invoice_customer: np.ndarray  # per invoice, index into customer_id; -1 for guests
    invoice_channel: np.ndarray  # per invoice
    invoice_country: np.ndarray  # per invoice
    customer_id: pa.Array  # per customer
    archetype: np.ndarray  # per customer

    @property
    def n_rows(self) -> int:
        return int(self.row_invoice.size)

    @property
    def n_invoices(self) -> int:
        return int(self.invoice_ts.size)

    def table(self, start: int = 0, stop: int | None = None) -> pa.Table:
        """Rows ``start:stop`` as an Arrow table of schema ``SCHEMA``."""
        cat = product_catalogue()
        invoice = self.row_invoice[start:stop]
        customer = self.invoice_customer[invoice]
        product = pa.array(self.product[start:stop])
        return pa.Table.from_arrays(
            [
                self.invoice_no.take(pa.array(invoice)),
                cat.stock_code.take(product),
                cat.description.take(product),
                cat.category.take(product),
                pa.array(self.quantity[start:stop].astype(np.int64)),
                pa.array(self.invoice_ts[invoice], type=pa.timestamp("ns")),
                pa.array(self.price[start:stop]),
                pa.array(DISCOUNT_VALUES[self.discount[start:stop]]),
                CHANNEL_ARRAY.take(pa.array(self.invoice_channel[invoice])),
                self.customer_id.take(pa.array(customer, mask=customer < 0)),
                COUNTRY_ARRAY.take(pa.array(self.invoice_country[invoice])),
            ],
            schema=SCHEMA,
        )

    def truth(self) -> pa.Table:
        """The planted archetype per customer, as an Arrow table."""
        return pa.Table.from_arrays(
            [self.customer_id, ARCHETYPE_ARRAY.take(pa.array(self.archetype))],
            schema=TRUTH_SCHEMA,
        )


def _place(n_rows: int, dtype: Any, rows: list[np.ndarray], values: list[np.ndarray]) -> np.ndarray:
    """An array of ``n_rows`` with ``values[i]`` written at ``rows[i]`` for each i."""
    out = np.empty(n_rows, dtype=dtype)
    for where, part in zip(rows, values, strict=True):
        out[where] = part
    return out


def _group_of(index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Group of each element ``index`` for contiguous groups beginning at ``starts``."""
    return np.searchsorted(starts, index, side="right") - 1


def _repeats_in_groups(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Indices of elements equal to an earlier element of their group.

    Parameters
    ----------
    values : numpy.ndarray
        Values, in contiguous groups.
    starts : numpy.ndarray
        Strictly increasing first index of each group, ``starts[0] == 0``.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the repeats (the first occurrence in a group is not one).

    Notes
    -----
    Compares each element with the one ``s`` places before it, for ``s = 1, 2, ...``
    while some group is longer than ``s``; without sorting, so the cost grows with the
    sum of squared group sizes, which is small for order lines.
    """
    n = values.size
    has_previous = np.ones(n, dtype=bool)
    has_previous[starts[starts < n]] = False
    index = np.flatnonzero(has_previous)  # elements with >= shift predecessors in group
    found = []
    shift = 1
    while index.size:
        found.append(index[values[index] == values[index - shift]])
        index = index[index + 1 < n] + 1
        index = index[has_previous[index]]
        shift += 1
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def generate(
    n: int,
    seed: np.random.SeedSequence,
    options: _Options,
    *,
    id_offset: int,
    first_invoice: int,
    absurd: bool,
) -> _Chunk:
    """Generate the log of ``n`` customers numbered from ``id_offset + 1``.

    Parameters
    ----------
    n : int
        Number of customers.
    seed : numpy.random.SeedSequence
        Seed of this chunk.
    options : _Options
        Period, dirt switch, archetype mix and width of the customer number.
    id_offset : int
        Customers are numbered ``id_offset + 1 .. id_offset + n``.
    first_invoice : int
        Number of the first invoice of the chunk; invoices are numbered consecutively.
    absurd : bool
        Plant the absurd-quantity line and its cancellation (with ``options.dirty``).

    Returns
    -------
    _Chunk
        The chunk's rows and truth.
    """
    rng = np.random.default_rng(seed)
    cat = product_catalogue()
    cal = demand_calendar(options.start_day, options.n_days)
    n_days, dirty = options.n_days, options.dirty and n > 0
    start_ns = options.start_day * DAY_NS

    # --- customers ----------------------------------------------------------------------
    arch = rng.choice(len(ARCHETYPES), size=n, p=options.probs)
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P)
    preferred = draw_from(rng, CHANNEL_TABLE, arch)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, n_days, dtype=np.int64)
    lo[arch == NEW] = max(0, n_days - RECENT_DAYS)
    if n_days > 2 * RECENT_DAYS:
        hi[arch == ONE_OFF] = n_days - RECENT_DAYS  # not to be mistaken for a new one
    lapse = rng.integers(min(183, n_days // 3), min(365, n_days // 2) + 1, size=n)
    hi = np.where(arch == LAPSING, np.maximum(1, n_days - lapse), hi)
    rate = ANNUAL_ORDERS[arch] / 365.25 * rng.lognormal(0.0, 0.35, size=n)
    n_orders = np.maximum(rng.poisson(rate * (hi - lo)), MIN_ORDERS[arch])
    few = rng.choice(3, size=n, p=[0.5, 0.3, 0.2]) + 1
    n_orders = np.where(arch == NEW, few, n_orders)
    del rate, few

    # --- customers' orders ---------------------------------------------------------------
    n_ev = int(n_orders.sum())
    ev_cust = np.repeat(np.arange(n), n_orders)
    is_first = np.zeros(n_ev, dtype=bool)
    is_first[np.cumsum(n_orders) - n_orders] = True
    ev_arch = arch[ev_cust]
    ev_lo, ev_hi = lo[ev_cust], hi[ev_cust]
    pin_recent = is_first & (ev_arch == LOYAL)  # loyal customers are recent
    ev_lo[pin_recent] = np.maximum(ev_lo[pin_recent], n_days - LOYAL_RECENT_DAYS)
    pin_lapse = is_first & (ev_arch == LAPSING)  # the last order before the lapse
    ev_lo[pin_lapse] = ev_hi[pin_lapse] - 1
    ev_day = sample_days(rng, cal.day_cdf, DAY_PROFILE[ev_arch], ev_lo, ev_hi)
    del ev_lo, ev_hi, is_first, pin_recent, pin_lapse, lo, hi
    ev_chan = np.where(
        rng.random(n_ev) < P_PREFERRED_CHANNEL,
        preferred[ev_cust],
        rng.integers(0, len(CHANNELS), size=n_ev),
    )

    # --- anonymous guest orders (dirt) ---------------------------------------------------
    n_guest = 0
    if dirty:
        lines = LINES_MEAN[ev_arch].sum() / LINES_MEAN[GUEST]
        n_guest = max(1, int(rng.poisson(GUEST_ROW_SHARE / (1 - GUEST_ROW_SHARE) * lines)))
    g_day = sample_days(
        rng,
        cal.day_cdf,
        np.zeros(n_guest, dtype=np.int64),
        np.zeros(n_guest, dtype=np.int64),
        np.full(n_guest, n_days, dtype=np.int64),
    )

    # --- all purchases: customers' then guests' ------------------------------------------
    p_prof = np.concatenate([ev_arch, np.full(n_guest, GUEST)]).astype(np.int8)
    p_cust = np.concatenate([ev_cust, np.full(n_guest, -1)]).astype(np.int32)
    p_day = np.concatenate([ev_day, g_day]).astype(np.int32)
    g_chan = draw_from(rng, CHANNEL_TABLE, np.full(n_guest, GUEST))
    p_chan = np.concatenate([ev_chan, g_chan]).astype(np.int8)
    p_country = np.concatenate(
        [country[ev_cust], rng.choice(len(COUNTRIES), size=n_guest, p=COUNTRY_P)]
    ).astype(np.int8)
    del ev_arch, ev_cust, ev_day, ev_chan, g_day, g_chan
    n_p = p_prof.size
    p_ts = start_ns + p_day * np.int64(DAY_NS) + minute_of_day(rng, p_chan) * MINUTE_NS
    n_lines = 1 + np.minimum(rng.poisson(LINES_MEAN[p_prof] - 1.0), MAX_LINES - 1)

    # --- product lines (grouped by order, orders in the order above) ---------------------
    p_code = (p_prof.astype(np.int32) * 2 + cal.is_sale[p_day]) * 2 + cal.is_xmas_season[p_day]
    l_code = np.repeat((p_code << RES_BITS).astype(np.int32), n_lines)
    del p_code
    l_prod = cat.product_table[l_code | uniform16(rng, l_code.size)]
    l_start = np.cumsum(n_lines) - n_lines
    repeated = _repeats_in_groups(l_prod, l_start)  # a product once per order: drop repeats
    if repeated.size:
        keep = np.ones(l_prod.size, dtype=bool)
        keep[repeated] = False
        l_code, l_prod = l_code[keep], l_prod[keep]
        del keep
        n_lines -= np.bincount(_group_of(repeated, l_start), minlength=n_p)
        l_start = np.cumsum(n_lines) - n_lines
    n_l = l_prod.size
    l_qty = cat.quantity_table[l_code | uniform16(rng, n_l)]
    l_disc = cat.discount_table[l_code | uniform16(rng, n_l)]
    del l_code
    l_price = cat.price_table[l_prod.astype(np.int32) * DISCOUNT_VALUES.size + l_disc]
    if dirty:  # a few lines at price zero
        zero = pick(rng, n_l, max(1, int(rng.binomial(n_l, P_ZERO_PRICE))))
        l_price[zero] = 0.0
        l_disc[zero] = 0

    # --- returns: part of one line of a customer's order, 1-28 days later ---------------
    ret = np.flatnonzero((p_cust >= 0) & (rng.random(n_p) < P_RETURN[p_prof]))
    r_line = l_start[ret] + (rng.random(ret.size) * n_lines[ret]).astype(np.int64)
    r_day = p_day[ret] + 1 + np.minimum(rng.exponential(4.0, size=ret.size), 27).astype(int)
    r_qty = -(1 + (rng.random(ret.size) * l_qty[r_line]).astype(np.int32))
    inside = r_day < n_days
    ret, r_line, r_day, r_qty = ret[inside], r_line[inside], r_day[inside], r_qty[inside]
    r_ts = start_ns + r_day * DAY_NS + minute_of_day(rng, p_chan[ret]) * MINUTE_NS
    r_prod, r_price, r_disc = l_prod[r_line], l_price[r_line], l_disc[r_line]
    n_r = ret.size
    del p_day, r_day, r_line, inside

    # --- non-product lines and the absurd line (dirt) ------------------------------------
    extra_ev: list[np.ndarray] = []
    extra_prod: list[np.ndarray] = []
    extra_qty: list[np.ndarray] = []
    extra_price: list[np.ndarray] = []
    # The absurd line (at most one) and its cancellation.
    c_ev = c_ts = c_prod = c_qty = np.zeros(0, dtype=np.int64)
    c_price = np.zeros(0)
    if dirty:
        abroad = p_country != HOME_COUNTRY
        post = np.flatnonzero(rng.random(n_p) < np.where(abroad, P_POSTAGE_ABROAD, P_POSTAGE_HOME))
        manual = pick(rng, n_p, max(1, int(rng.binomial(n_p, P_MANUAL))))
        bank = pick(rng, n_p, max(1, int(rng.binomial(n_p, P_BANK_CHARGES))))
        extra_ev += [post, manual, bank]
        extra_prod += [
            np.full(post.size, cat.post),
            np.full(manual.size, cat.manual),
            np.full(bank.size, cat.bank_charges),
        ]
        extra_qty += [
            1 + rng.binomial(2, 0.15, size=post.size),
            np.ones(manual.size, dtype=np.int64),
            np.ones(bank.size, dtype=np.int64),
        ]
        extra_price += [
            POSTAGE_PRICES[rng.integers(0, POSTAGE_PRICES.size, size=post.size)],
            np.round(rng.lognormal(np.log(4.0), 1.0, size=manual.size) + 0.01, 2),
            np.full(bank.size, 15.0),
        ]
        del abroad, post, manual, bank
        if absurd:
            # One line of an absurd quantity of a cheap product on a customer's order
            # (a loyal customer's if there is one), cancelled in full the same day.
            loyal_orders = np.flatnonzero(p_prof == LOYAL)
            pool = loyal_orders if loyal_orders.size else np.flatnonzero(p_cust >= 0)
            c_ev = pool[rng.integers(0, pool.size, size=1)]
            c_prod = cat.cheap[rng.integers(0, cat.cheap.size, size=1)]
            c_qty = rng.integers(60_000, 100_000, size=1)
            c_price = cat.list_price[c_prod]
            extra_ev.append(c_ev)
            extra_prod.append(c_prod)
            extra_qty.append(c_qty)
            extra_price.append(c_price)
            left = 1439 - (p_ts[c_ev] - start_ns) // MINUTE_NS % 1440  # minutes left today
            c_ts = p_ts[c_ev] + np.minimum(left, 1 + rng.integers(0, 180, size=1)) * MINUTE_NS
            del loyal_orders, pool
    n_c = c_ev.size
    extra_rank: list[np.ndarray] = []  # place among the order's non-product lines
    n_extra = np.zeros(n_p, dtype=np.int64)
    for events in extra_ev:  # each kind at most once per order
        extra_rank.append(n_extra[events].copy())
        n_extra[events] += 1

    # --- exact duplicates of product and return lines (dirt) ----------------------------
    dup_l = dup_r = np.zeros(0, dtype=np.int64)
    if dirty:
        k = max(1, int(rng.binomial(n_l + n_r, P_DUPLICATE)))
        chosen = pick(rng, n_l + n_r, k)
        dup_l, dup_r = chosen[chosen < n_l], chosen[chosen >= n_l] - n_l
    dups_per_order = np.bincount(_group_of(dup_l, l_start), minlength=n_p)

    # --- invoices: purchases, returns, cancellation; numbered in time order -------------
    inv_ts = np.concatenate([p_ts, r_ts, c_ts])
    inv_rows = np.concatenate(
        [
            n_lines + n_extra + dups_per_order,
            1 + np.bincount(dup_r, minlength=n_r),
            np.ones(n_c, dtype=np.int64),
        ]
    )
    del p_ts, n_extra
    n_inv = inv_ts.size
    by_time = np.argsort(inv_ts, kind="stable")
    rows_sorted = inv_rows[by_time]
    del inv_rows
    first_row = np.empty(n_inv, dtype=np.int64)
    first_row[by_time] = np.cumsum(rows_sorted) - rows_sorted
    n_rows = int(rows_sorted.sum())

    # --- where each line goes --------------------------------------------------------------
    # A product line goes to its order's first row + its place in the order + the number
    # of duplicated lines before it in the order (a duplicate follows its original).
    dups_before = np.zeros(n_l + 1, dtype=np.int32)
    dups_before[dup_l + 1] = 1
    np.cumsum(dups_before, out=dups_before)
    row_type = np.int32 if n_rows < 2**31 else np.int64
    order_shift = (first_row[:n_p] - l_start - dups_before[l_start]).astype(row_type)
    l_rows = np.repeat(order_shift, n_lines)
    l_rows += np.arange(n_l, dtype=row_type)
    l_rows += dups_before[:-1]
    del dups_before, order_shift
    row_parts = [
        l_rows,
        l_rows[dup_l] + 1,
        *(
            first_row[events] + n_lines[events] + dups_per_order[events] + rank
            for events, rank in zip(extra_ev, extra_rank, strict=True)
        ),
        first_row[n_p : n_p + n_r],
        first_row[n_p : n_p + n_r][dup_r] + 1,
        first_row[n_p + n_r :],
    ]
    del l_rows, first_row, extra_ev, extra_rank

    # Per column: dtype, product lines, non-product lines, returns, cancellation.  Each
    # column's sources are dropped as soon as it is placed, to keep the peak low.
    no_discount = [np.zeros(part.size, dtype=np.int8) for part in extra_prod]
    sources: list[tuple[Any, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]] = [
        (np.int16, l_prod, extra_prod, r_prod, c_prod),
        (np.int32, l_qty, extra_qty, r_qty, -c_qty),
        (np.float64, l_price, extra_price, r_price, c_price),
        (np.int8, l_disc, no_discount, r_disc, np.zeros(n_c, dtype=np.int8)),
    ]
    del l_prod, l_qty, l_price, l_disc
    placed = []
    while sources:
        dtype, lines, extras, returns, cancel = sources.pop(0)
        parts = [lines, lines[dup_l], *extras, returns, returns[dup_r], cancel]
        del lines
        placed.append(_place(n_rows, dtype, row_parts, parts))
        del parts
    product, quantity, price, discount = placed
    del row_parts, placed

    # --- per invoice, in time order ------------------------------------------------------
    numbers = pc.cast(pa.array(first_invoice + np.arange(n_inv)), STR)
    is_c = pa.array(by_time >= n_p)
    customer_no = pc.cast(pa.array(id_offset + 1 + np.arange(n)), STR)
    return _Chunk(
        row_invoice=np.repeat(np.arange(n_inv, dtype=np.int32), rows_sorted),
        product=product,
        quantity=quantity,
        price=price,
        discount=discount,
        invoice_no=pc.if_else(is_c, prefixed(numbers, "C"), numbers),
        invoice_ts=inv_ts[by_time],
        invoice_customer=np.concatenate([p_cust, p_cust[ret], p_cust[c_ev]])[by_time],
        invoice_channel=np.concatenate([p_chan, p_chan[ret], p_chan[c_ev]])[by_time],
        invoice_country=np.concatenate([p_country, p_country[ret], p_country[c_ev]])[by_time],
        customer_id=prefixed(pc.utf8_lpad(customer_no, width=options.id_width, padding="0"), "C"),
        archetype=arch,
    )


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------
def check_count(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``, else :class:`UsageError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise UsageError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _day(value: Any, name: str) -> int:
    """A date as whole days since 1970-01-01 (any time of day is dropped)."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{name} is not a date: {value!r}") from exc
    if stamp is pd.NaT:
        raise UsageError(f"{name} is not a date: {value!r}")
    return int(np.datetime64(stamp.date(), "D").astype(np.int64))


def _archetype_probs(weights: Mapping[str, float] | None) -> np.ndarray:
    """Normalised archetype shares from ``weights`` (names missing from it get 0)."""
    if weights is None:
        weights = DEFAULT_WEIGHTS
    unknown = sorted(set(weights) - set(ARCHETYPES))
    if unknown:
        raise UsageError(f"unknown archetype {unknown[0]!r} in weights; known: {ARCHETYPES}")
    probs = np.array([float(weights.get(name, 0.0)) for name in ARCHETYPES])
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or probs.sum() <= 0:
        raise UsageError(f"weights must be finite, >= 0 and not all 0, got {dict(weights)}")
    return cast(np.ndarray, probs / probs.sum())


def checked_options(
    n_customers: int,
    start: Any,
    end: Any,
    dirty: bool,
    weights: Mapping[str, float] | None,
) -> _Options:
    start_day, end_day = _day(start, "start"), _day(end, "end")
    if end_day < start_day:
        raise UsageError(f"end ({end}) is before start ({start})")
    return _Options(
        start_day=start_day,
        n_days=end_day - start_day + 1,
        dirty=bool(dirty),
        probs=_archetype_probs(weights),
        id_width=max(6, len(str(n_customers))),
    )


def chunk_seeds(seed: Any, n_chunks: int) -> list[np.random.SeedSequence]:
    """Independent seeds of the chunks; chunk ``i`` gets the same seed whatever their number."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed)).spawn(n_chunks)

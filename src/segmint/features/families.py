"""The feature families, as DuckDB SQL over the cleaned lines and orders.

Notation: ``A`` is the as-of date; only purchases and returns (see
:mod:`segmint.features.clean`) count.  An *order* is the purchase lines sharing an order
id (or, without order ids, a customer and timestamp); its value is the sum of its lines
and its time the earliest of their timestamps; only orders of positive value count.
Shares of spend are shares of the value of those orders.  A month is a calendar month.

``rfm``
    ``recency_days``: days from the date of the last order to ``A``;
    ``frequency``: number of orders;
    ``monetary``: net spend, purchases minus returns;
    ``avg_order_value``: mean order value;
    ``tenure_days``: days from the date of the first order to ``A``.
``consistency``
    ``order_value_std``: population standard deviation of order values (0 for one order);
    ``order_value_cv``: ``order_value_std / avg_order_value``;
    ``days_between_orders``: mean days between consecutive orders (timestamps, fractional
    days; missing for one order);
    ``days_between_orders_cv``: population standard deviation of those gaps over their
    mean (0 when the mean is 0; missing for one order).
``velocity``
    ``spend_per_month``: ``monetary * 30.4375 / max(tenure_days, 30.4375)``;
    ``spend_per_active_month``: ``monetary`` over the number of months with an order;
    ``active_month_share``: months with an order over the months from the first order's
    month to the month of the day before ``A`` (both included).
``trend`` (``T`` = ``trend_days``, 90 by default)
    ``spend_last_{T}d`` / ``orders_last_{T}d``: value / number of orders in
    ``[A - T days, A)``; ``spend_prev_{T}d`` / ``orders_prev_{T}d``: the same in
    ``[A - 2T days, A - T days)``;
    ``spend_trend`` and ``orders_trend``: ``(last - prev) / (last + prev)``, in [-1, 1],
    0 when both are 0;
    ``monthly_spend_slope``: least-squares slope of spend per month against the month
    number, over every month from the first order's month to the month of the day before
    ``A`` (months without orders count as 0; 0 with a single month), in money per month.
``seasonality``
    ``top_month_share``: share of spend in the customer's top month of the year (January
    to December, years pooled);
    ``peak_season_share``: share of spend in the shop's peak months (``peak_months`` of
    the spec; by default the two months of the year with the most spend in the log).
``timing``
    ``weekend_share``: share of spend on Saturdays and Sundays;
    with ``hour_profile`` (default: when timestamps carry a time of day)
    ``night_share``, ``morning_share``, ``afternoon_share``, ``evening_share``: share of
    spend ordered from 0:00, 6:00, 12:00, 18:00 to 6 hours later.
``breadth`` (needs a product column)
    ``distinct_products``, and with a category column ``distinct_categories``: distinct
    values among purchase lines.
``returns``
    ``return_value_share``: value of returns over value of purchases;
    ``return_quantity_share`` (with quantities): units returned over units bought.
``discount`` (needs a discount column)
    ``discounted_share``: share of purchase value bought with a discount above 0;
    ``mean_discount``: purchase-value-weighted mean discount rate.  The rate of a line is
    the discount column itself (``rate``), divided by 100 (``percent``), or the amount
    over the value before it (``amount``).
``channel`` (needs a channel column)
    ``channel_share_<level>``: share of orders through the level (an order's channel is
    the smallest value among its lines), for each level of the resolved spec.
``windows`` (``N`` in ``windows``, 90 and 365 by default)
    ``frequency_last_{N}d``: orders in ``[A - N days, A)``;
    ``monetary_last_{N}d``: net spend of purchases and returns in that window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from segmint.features.spec import FeatureSpec

RFM_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
)

_HOURS = (("night", 0, 6), ("morning", 6, 12), ("afternoon", 12, 18), ("evening", 18, 24))
_KEPT = "state IN ('purchase', 'return')"
_BUY = "state = 'purchase'"
_RET = "state = 'return'"


def channel_column(level: str, taken: set[str]) -> str:
    """Feature name of a channel level: ``channel_share_`` and the level's letters/digits."""
    slug = re.sub(r"[^0-9a-z]+", "_", str(level).lower()).strip("_") or "blank"
    name = f"channel_share_{slug}"
    n = 2
    while name in taken:
        name, n = f"channel_share_{slug}_{n}", n + 1
    return name


@dataclass(frozen=True)
class Families:
    """SQL fragments of the chosen families for one resolved spec and as-of date."""

    spec: FeatureSpec
    families: tuple[str, ...]
    as_of: dt.date

    def _ts(self, days_before: int = 0) -> str:
        return f"TIMESTAMP '{(self.as_of - dt.timedelta(days=days_before)).isoformat()}'"

    def _has(self, family: str) -> bool:
        return family in self.families

    def _rate(self) -> str:
        unit = self.spec.discount_unit
        if unit == "percent":
            return "(discount / 100.0)"
        if unit == "amount":
            return "(discount / nullif(value + discount, 0))"
        return "discount"

    # ----------------------------------------------------------- per customer, from lines
    def group_columns(self) -> tuple[list[str], list[str]]:
        """(extra keys, extra sums) of ``line_groups``: window flags, discount sums."""
        keys, sums = [], []
        if self._has("discount"):
            rate = self._rate()
            sums.append(f"sum(value * coalesce({rate}, 0)) AS vr")
            sums.append(f"sum(value) FILTER (WHERE {rate} > 0) AS vd")
        if self._has("windows"):
            keys += [f"ts >= {self._ts(n)} AS w_{n}" for n in self.spec.windows]
        return keys, sums

    def line_columns(self) -> list[str]:
        """Per-customer aggregates over ``line_groups`` (lines summed by state)."""
        out = [
            f"sum(v) FILTER (WHERE {_KEPT}) AS net_value",
            f"sum(v) FILTER (WHERE {_BUY}) AS purchased_value",
        ]
        if self._has("returns"):
            out.append(f"-sum(v) FILTER (WHERE {_RET}) AS returned_value")
            if self.spec.quantity is not None:
                out.append(f"sum(q) FILTER (WHERE {_BUY}) AS purchased_units")
                out.append(f"-sum(q) FILTER (WHERE {_RET}) AS returned_units")
        if self._has("discount"):
            out.append(f"sum(vr) FILTER (WHERE {_BUY}) AS discount_weighted")
            out.append(f"sum(vd) FILTER (WHERE {_BUY}) AS discounted_value")
        if self._has("windows"):
            for n in self.spec.windows:
                out.append(f"sum(v) FILTER (WHERE {_KEPT} AND w_{n}) AS net_last_{n}")
        return out

    # ---------------------------------------------------------- per customer, from orders
    def order_columns(self) -> list[str]:
        """Aggregates over the customer's orders (``orders`` with ``gap_s`` and ``ym``)."""
        out = [
            "count(*) AS frequency",
            "min(ts) AS first_ts",
            "max(ts) AS last_ts",
            "avg(value) AS aov",
            "sum(value) AS order_total",
        ]
        if self._has("consistency"):
            out += [
                "stddev_pop(value) AS value_std",
                "avg(gap_s) / 86400.0 AS gap_mean",
                "stddev_pop(gap_s) / 86400.0 AS gap_std",
            ]
        if self._has("velocity") or self._has("trend"):
            out.append("min(ym) AS ym0")
        if self._has("velocity"):
            out.append("count(DISTINCT ym) AS active_months")
        if self._has("trend"):
            t = self.spec.trend_days
            last, prev = f"ts >= {self._ts(t)}", f"ts >= {self._ts(2 * t)} AND ts < {self._ts(t)}"
            out += [
                f"coalesce(sum(value) FILTER (WHERE {last}), 0) AS spend_last",
                f"coalesce(sum(value) FILTER (WHERE {prev}), 0) AS spend_prev",
                f"count(*) FILTER (WHERE {last}) AS orders_last",
                f"count(*) FILTER (WHERE {prev}) AS orders_prev",
                "sum(value * ym) - min(ym) * sum(value) AS sum_ms",
            ]
        if self._has("seasonality"):
            months = ", ".join(str(int(m)) for m in self.spec.peak_months or ())
            out.append(
                f"coalesce(sum(value) FILTER (WHERE month(ts) IN ({months or 'NULL'})), 0) "
                "AS peak_value"
            )
        if self._has("timing"):
            out.append("coalesce(sum(value) FILTER (WHERE isodow(ts) >= 6), 0) AS weekend_value")
            if self.spec.hour_profile:
                for name, lo, hi in _HOURS:
                    out.append(
                        f"coalesce(sum(value) FILTER "
                        f"(WHERE hour(ts) >= {lo} AND hour(ts) < {hi}), 0) "
                        f"AS {name}_value"
                    )
        if self._has("channel"):
            for i, level in enumerate(self.spec.channels or ()):
                out.append(f"count(*) FILTER (WHERE channel = {_literal(level)}) AS channel_{i}")
        if self._has("windows"):
            for n in self.spec.windows:
                out.append(f"count(*) FILTER (WHERE ts >= {self._ts(n)}) AS orders_last_{n}")
        return out

    def breadth_sql(self) -> str | None:
        """Distinct products (from ``bought``) and categories per customer, in a query of
        their own (a distinct count among the many other aggregates of the lines is slow)."""
        if not self._has("breadth"):
            return None
        products = "SELECT customer_id, count(product) AS n_products FROM bought GROUP BY ALL"
        if self.spec.category is None:
            return f"CREATE OR REPLACE TEMP TABLE breadth AS {products}"
        return f"""
            CREATE OR REPLACE TEMP TABLE breadth AS
            WITH p AS ({products}),
            c AS (
                SELECT customer_id, count(DISTINCT category) AS n_categories
                FROM final WHERE {_BUY} AND customer_id IS NOT NULL GROUP BY customer_id
            )
            SELECT * FROM p JOIN c USING (customer_id)
        """

    def needs_top_month(self) -> bool:
        return self._has("seasonality")

    # ------------------------------------------------------------------- the features
    def feature_columns(self) -> list[tuple[str, str]]:
        """(name, expression over ``o`` order stats, ``l`` line stats, ``m`` month stats,
        ``b`` breadth)."""
        a = f"DATE '{self.as_of.isoformat()}'"
        last_month = self.as_of - dt.timedelta(days=1)
        ym_end = last_month.year * 12 + last_month.month - 1
        out: list[tuple[str, str]] = []
        tenure = f"date_diff('day', CAST(o.first_ts AS DATE), {a})"
        if self._has("rfm"):
            out += [
                ("recency_days", f"date_diff('day', CAST(o.last_ts AS DATE), {a})"),
                ("frequency", "o.frequency"),
                ("monetary", "l.net_value"),
                ("avg_order_value", "o.aov"),
                ("tenure_days", tenure),
            ]
        if self._has("consistency"):
            out += [
                ("order_value_std", "o.value_std"),
                ("order_value_cv", "o.value_std / o.aov"),
                ("days_between_orders", "CASE WHEN o.frequency > 1 THEN o.gap_mean END"),
                (
                    "days_between_orders_cv",
                    "CASE WHEN o.frequency > 1 "
                    "THEN coalesce(o.gap_std / nullif(o.gap_mean, 0), 0) END",
                ),
            ]
        if self._has("velocity"):
            out += [
                ("spend_per_month", f"l.net_value * 30.4375 / greatest({tenure}, 30.4375)"),
                ("spend_per_active_month", "l.net_value / o.active_months"),
                ("active_month_share", f"o.active_months / ({ym_end} - o.ym0 + 1)"),
            ]
        if self._has("trend"):
            t = self.spec.trend_days
            months = f"({ym_end} - o.ym0 + 1)"
            sum_m = f"({months} * ({months} - 1) / 2.0)"
            sum_m2 = f"(({months} - 1) * {months} * (2 * {months} - 1) / 6.0)"
            slope = (
                f"CASE WHEN {months} > 1 THEN ({months} * o.sum_ms - {sum_m} * o.order_total) "
                f"/ ({months} * {sum_m2} - {sum_m} * {sum_m}) ELSE 0 END"
            )
            out += [
                (f"spend_last_{t}d", "o.spend_last"),
                (f"spend_prev_{t}d", "o.spend_prev"),
                (f"orders_last_{t}d", "o.orders_last"),
                (f"orders_prev_{t}d", "o.orders_prev"),
                ("spend_trend", _trend("o.spend_last", "o.spend_prev")),
                ("orders_trend", _trend("o.orders_last", "o.orders_prev")),
                ("monthly_spend_slope", slope),
            ]
        if self._has("seasonality"):
            out += [
                ("top_month_share", "m.top_month_value / o.order_total"),
                ("peak_season_share", "o.peak_value / o.order_total"),
            ]
        if self._has("timing"):
            out.append(("weekend_share", "o.weekend_value / o.order_total"))
            if self.spec.hour_profile:
                out += [
                    (f"{name}_share", f"o.{name}_value / o.order_total") for name, _, _ in _HOURS
                ]
        if self._has("breadth"):
            out.append(("distinct_products", "coalesce(b.n_products, 0)"))
            if self.spec.category is not None:
                out.append(("distinct_categories", "coalesce(b.n_categories, 0)"))
        if self._has("returns"):
            out.append(("return_value_share", "coalesce(l.returned_value, 0) / l.purchased_value"))
            if self.spec.quantity is not None:
                out.append(
                    (
                        "return_quantity_share",
                        "coalesce(l.returned_units, 0) / nullif(l.purchased_units, 0)",
                    )
                )
        if self._has("discount"):
            out += [
                ("discounted_share", "coalesce(l.discounted_value, 0) / l.purchased_value"),
                ("mean_discount", "coalesce(l.discount_weighted, 0) / l.purchased_value"),
            ]
        if self._has("channel"):
            taken: set[str] = set()
            for i, level in enumerate(self.spec.channels or ()):
                name = channel_column(level, taken)
                taken.add(name)
                out.append((name, f"o.channel_{i} / o.frequency"))
        if self._has("windows"):
            for n in self.spec.windows:
                out += [
                    (f"frequency_last_{n}d", f"o.orders_last_{n}"),
                    (f"monetary_last_{n}d", f"coalesce(l.net_last_{n}, 0)"),
                ]
        return out


def _trend(last: str, prev: str) -> str:
    return f"CASE WHEN {last} + {prev} > 0 THEN ({last} - {prev}) / ({last} + {prev}) ELSE 0 END"


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


INTEGER_FEATURES = re.compile(
    r"^(recency_days|frequency|tenure_days|orders_(last|prev)_\d+d|distinct_\w+|frequency_last_\d+d)$"
)
"""Feature names whose values are whole numbers (returned as int64)."""

"""The baseline of bench_features.py: the same cleaning and features, straightforward pandas.

Reads the whole log into a DataFrame (``pandas.read_csv`` / ``read_parquet``), then
``drop_duplicates``, ``groupby`` and ``merge_asof``: what an analyst would write.  It
follows the definitions of :mod:`segmint.features.clean` and
:mod:`segmint.features.families` for the generator's columns, and the benchmark checks
that it gives the same numbers as segmint on a small log before timing it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from segmint.features.spec import DEFAULT_NON_PRODUCT_CODES

COLUMNS = {
    "customer": "CustomerID", "time": "InvoiceDate", "order": "InvoiceNo", "product": "StockCode",
    "category": "Category", "channel": "Channel", "discount": "Discount", "quantity": "Quantity",
    "price": "UnitPrice",
}  # fmt: skip


def read_log(path: str) -> pd.DataFrame:
    """The log as pandas reads it (ids and codes as text, dates parsed)."""
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    text = {"InvoiceNo": str, "StockCode": str, "CustomerID": str}
    frame = pd.read_csv(path, dtype=text)
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    return frame


def pandas_features(
    log: pd.DataFrame,
    *,
    today: dt.date,
    as_of: dt.date | None = None,
    trend_days: int = 90,
    windows: tuple[int, ...] = (90, 365),
    channels: tuple[str, ...] = ("web", "app", "store"),
    peak_months: tuple[int, ...] | None = None,
    absurd: float = 10_000,
) -> pd.DataFrame:
    """One row per customer with an order: every family of segmint, and the quality score."""
    c = COLUMNS
    rows = len(log)
    raw_customers = log[log[c["customer"]].notna()]
    log = log.drop_duplicates()
    copies = rows - len(log)
    future = pd.Timestamp(today + dt.timedelta(days=1))
    ts_all = log[c["time"]]
    last = ts_all[ts_all < future].max()
    as_of = as_of or (last.date() + dt.timedelta(days=1))
    a = pd.Timestamp(as_of)
    lines = log[log[c["customer"]].notna()].copy()
    lines["value"] = lines[c["quantity"]] * lines[c["price"]]
    qty, price, ts = lines[c["quantity"]], lines[c["price"]], lines[c["time"]]
    order = lines[c["order"]].fillna("").str.upper()
    cancel = order.str.startswith("C")
    non_product = (
        lines[c["product"]]
        .fillna("")
        .str.strip()
        .str.upper()
        .isin([x.upper() for x in DEFAULT_NON_PRODUCT_CODES])
    )
    adjust = order.str.startswith("A") | ((qty < 0) & (price == 0) & ~cancel)
    conditions = [
        ts.isna(), ts >= future, lines["value"].isna(), ts >= a, non_product, adjust,
        (price == 0) | (qty == 0), price < 0, (lines["value"] < 0) | cancel,
    ]  # fmt: skip
    states = ["unparseable_time", "future_date", "no_value", "after_as_of", "non_product",
              "stock_adjustment", "zero_price", "negative_price", "return"]  # fmt: skip
    lines["state"] = np.select(conditions, states, default="purchase")

    # same-day full cancellations: k-th return pairs with the k-th purchase of its key
    key = [c["customer"], c["product"], "mq", "mp", "day"]
    lines["mq"], lines["mp"], lines["day"] = qty.abs(), price.fillna(0), ts.dt.normalize()
    lines = lines.sort_values(c["time"], kind="stable")
    ret = lines[lines["state"] == "return"]
    buy = lines[lines["state"] == "purchase"]
    ret = ret.assign(k=ret.groupby(key).cumcount())
    buy = buy.assign(k=buy.groupby(key).cumcount())
    pairs = ret.reset_index().merge(buy.reset_index(), on=[*key, "k"], suffixes=("_x", "_p"))
    pairs = pairs[pairs[f"{c['time']}_x"] >= pairs[f"{c['time']}_p"]]
    lines.loc[np.concatenate([pairs["index_x"], pairs["index_p"]]), "state"] = "voided"
    kept = lines["state"].isin(["purchase", "return"])
    lines.loc[kept & (lines[c["quantity"]].abs() >= absurd), "state"] = "absurd_quantity"

    buys = lines[lines["state"] == "purchase"]
    rets = lines[lines["state"] == "return"].sort_values(c["time"])
    matched = pd.merge_asof(
        rets[[c["time"], c["customer"], c["product"]]],
        buys[[c["time"], c["customer"], c["product"]]].assign(hit=1),
        on=c["time"], by=[c["customer"], c["product"]], direction="backward",
    )  # fmt: skip
    unmatched = rets.assign(un=matched["hit"].isna().to_numpy()).groupby(c["customer"])["un"].sum()

    orders = (
        buys.groupby([c["customer"], c["order"]])
        .agg(ts=(c["time"], "min"), value=("value", "sum"), channel=(c["channel"], "min"))
        .reset_index()
    )
    orders = orders[orders["value"] > 0].sort_values([c["customer"], "ts", c["order"]])
    orders["gap"] = orders.groupby(c["customer"])["ts"].diff().dt.total_seconds() / 86400
    orders["ym"] = orders["ts"].dt.year * 12 + orders["ts"].dt.month - 1
    g = orders.groupby(c["customer"])
    out = pd.DataFrame(
        {
            "frequency": g.size(),
            "first": g["ts"].min(),
            "last": g["ts"].max(),
            "avg_order_value": g["value"].mean(),
            "total": g["value"].sum(),
        }
    )
    net = lines[lines["state"].isin(["purchase", "return"])].groupby(c["customer"])["value"].sum()
    out["monetary"] = net
    out["recency_days"] = (a - out["last"].dt.normalize()).dt.days
    out["tenure_days"] = (a - out["first"].dt.normalize()).dt.days
    out["order_value_std"] = g["value"].std(ddof=0)
    out["order_value_cv"] = out["order_value_std"] / out["avg_order_value"]
    gap_mean, gap_std = g["gap"].mean(), g["gap"].std(ddof=0)
    out["days_between_orders"] = gap_mean.where(out["frequency"] > 1)
    out["days_between_orders_cv"] = (
        (gap_std / gap_mean.replace(0, np.nan)).fillna(0).where(out["frequency"] > 1)
    )
    last_month = a - pd.Timedelta(days=1)
    ym_end = last_month.year * 12 + last_month.month - 1
    ym0 = g["ym"].min()
    months = ym_end - ym0 + 1
    active = g["ym"].nunique()
    out["spend_per_month"] = out["monetary"] * 30.4375 / np.maximum(out["tenure_days"], 30.4375)
    out["spend_per_active_month"] = out["monetary"] / active
    out["active_month_share"] = active / months
    t = trend_days
    recent = orders["ts"] >= a - pd.Timedelta(days=t)
    before = (orders["ts"] >= a - pd.Timedelta(days=2 * t)) & ~recent
    parts = orders.assign(
        l=orders["value"] * recent, p=orders["value"] * before, nl=recent, np_=before,
        ms=orders["value"] * orders["ym"],
    )  # fmt: skip
    sums = parts.groupby(c["customer"])[["l", "p", "nl", "np_", "ms"]].sum()
    out[f"spend_last_{t}d"], out[f"spend_prev_{t}d"] = sums["l"], sums["p"]
    out[f"orders_last_{t}d"], out[f"orders_prev_{t}d"] = sums["nl"], sums["np_"]
    for name, (x, y) in {"spend_trend": ("l", "p"), "orders_trend": ("nl", "np_")}.items():
        total = sums[x] + sums[y]
        out[name] = ((sums[x] - sums[y]) / total.replace(0, np.nan)).fillna(0)
    sum_ms = sums["ms"] - ym0 * out["total"]
    sm, sm2 = months * (months - 1) / 2, (months - 1) * months * (2 * months - 1) / 6
    slope = (months * sum_ms - sm * out["total"]) / (months * sm2 - sm * sm)
    out["monthly_spend_slope"] = slope.where(months > 1, 0.0)
    by_month = orders.groupby([c["customer"], orders["ts"].dt.month])["value"].sum()
    out["top_month_share"] = by_month.groupby(level=0).max() / out["total"]
    if peak_months is None:  # the two months of the year with most order value
        spend = orders.groupby(orders["ts"].dt.month)["value"].sum()
        spend = spend.reset_index().sort_values(["value", "ts"], ascending=[False, True])
        peak_months = tuple(sorted(spend["ts"].iloc[:2]))
    peak = orders["ts"].dt.month.isin(peak_months)
    out["peak_season_share"] = (
        orders.assign(v=orders["value"] * peak).groupby(c["customer"])["v"].sum() / out["total"]
    )
    weekend = orders["ts"].dt.dayofweek >= 5
    out["weekend_share"] = (
        orders.assign(v=orders["value"] * weekend).groupby(c["customer"])["v"].sum() / out["total"]
    )
    hours = orders["ts"].dt.hour
    for name, lo in (("night", 0), ("morning", 6), ("afternoon", 12), ("evening", 18)):
        part = orders["value"] * ((hours >= lo) & (hours < lo + 6))
        out[f"{name}_share"] = (
            orders.assign(v=part).groupby(c["customer"])["v"].sum() / out["total"]
        )
    bg = buys.groupby(c["customer"])
    out["distinct_products"] = bg[c["product"]].nunique()
    out["distinct_categories"] = bg[c["category"]].nunique()
    rg = rets.groupby(c["customer"])
    out["return_value_share"] = (-rg["value"].sum()).reindex(out.index).fillna(0) / bg[
        "value"
    ].sum()
    out["return_quantity_share"] = (-rg[c["quantity"]].sum()).reindex(out.index).fillna(0) / bg[
        c["quantity"]
    ].sum()
    rate = buys[c["discount"]].fillna(0)
    out["discounted_share"] = (
        buys.assign(v=buys["value"] * (rate > 0)).groupby(c["customer"])["v"].sum()
        / bg["value"].sum()
    )
    out["mean_discount"] = (
        buys.assign(v=buys["value"] * rate).groupby(c["customer"])["v"].sum() / bg["value"].sum()
    )
    for level in channels:
        share = orders.assign(v=orders["channel"] == level).groupby(c["customer"])["v"].sum()
        out[f"channel_share_{level}"] = share / out["frequency"]
    net_lines = lines[lines["state"].isin(["purchase", "return"])]
    for n in windows:
        since = a - pd.Timedelta(days=n)
        out[f"frequency_last_{n}d"] = (
            orders[orders["ts"] >= since].groupby(c["customer"]).size().reindex(out.index).fillna(0)
        )
        recent_lines = net_lines[net_lines[c["time"]] >= since]
        out[f"monetary_last_{n}d"] = (
            recent_lines.groupby(c["customer"])["value"].sum().reindex(out.index).fillna(0)
        )
    # quality: problems over the customer's rows before the as-of date, copies included
    counts = pd.crosstab(lines[c["customer"]], lines["state"])
    raw = raw_customers[~((raw_customers[c["time"]] >= a) & (raw_customers[c["time"]] < future))]
    kept_rows = lines[lines["state"] != "after_as_of"]
    dups = (
        raw.groupby(c["customer"]).size().sub(kept_rows.groupby(c["customer"]).size(), fill_value=0)
    )
    problem_states = ["unparseable_time", "future_date", "no_value", "zero_price", "negative_price",
                      "stock_adjustment", "voided", "absurd_quantity"]  # fmt: skip
    problems = counts.reindex(columns=problem_states, fill_value=0).sum(axis=1)
    total = kept_rows.groupby(c["customer"]).size().reindex(counts.index).fillna(0) + dups.reindex(
        counts.index
    ).fillna(0)
    problems = (
        problems + dups.reindex(counts.index).fillna(0) + unmatched.reindex(counts.index).fillna(0)
    )
    out["quality_score"] = (1 - problems / total.clip(lower=1)).clip(lower=0)
    out.attrs["duplicates"] = copies
    return out.drop(columns=["first", "last", "total"]).sort_index()

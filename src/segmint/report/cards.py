"""One card per segment, the outcome block, the full profile table and the decisions."""

from __future__ import annotations

import math
from typing import Any

from segmint.naming import UNASSIGNED, Differentiator
from segmint.outcome import format_p
from segmint.profile import SegmentProfile
from segmint.report.common import DASH, colour, e, label, names_by_id, number, share

# Plain words for the usual behavioural features: (higher, lower).
_WORDS = {
    "recency_days": ("longer since their last purchase", "bought more recently"),
    "frequency": ("order more often", "order less often"),
    "monetary": ("spend more", "spend less"),
    "avg_order_value": ("place bigger orders", "place smaller orders"),
    "tenure_days": ("have been customers for longer", "are newer customers"),
    "days_between_orders": ("leave longer gaps between orders", "reorder sooner"),
    "days_between_orders_cv": ("order at irregular intervals", "order at regular intervals"),
    "order_value_cv": ("vary their order size more", "keep their order size steady"),
    "top_month_share": ("buy mostly in one month of the year", "spread purchases over the year"),
    "return_value_share": ("return more of what they buy", "return less"),
    "weekend_share": ("shop more at weekends", "shop less at weekends"),
    "spend_trend": ("spend more lately", "spend less lately"),
    "orders_trend": ("order more lately", "order less lately"),
    "monthly_spend_slope": ("spend more month after month", "spend less month after month"),
}
_SOURCE = {
    "archetype": "name from its RFM position",
    "differentiators": "name from what sets it apart",
    "override": "name given by a person",
    "special": "",
}


def _strength(z: float) -> str:
    size = abs(z)
    return "much " if size >= 1 else "" if size >= 0.5 else "slightly "


def _fact(feature: str, z: float) -> str:
    if feature in _WORDS:
        return _WORDS[feature][0 if z > 0 else 1]
    if "=" in feature:
        column, level = feature.split("=", 1)
        return f"{_strength(z)}{'more' if z > 0 else 'less'} often {label(column).lower()} {level}"
    return f"{_strength(z)}{'higher' if z > 0 else 'lower'} {label(feature).lower()}"


_RFM = ("recency_days", "frequency", "monetary")


def _robust(p: SegmentProfile, d: Differentiator, medians: dict[str, Any]) -> Differentiator:
    """A numeric difference whose sign follows the medians, which the card shows: on a
    skewed feature a few big spenders can pull the mean up while the typical member
    sits lower. Category levels keep their shares."""
    if "=" in d.feature:
        return d
    raw_seg, raw_pop = p.medians.get(d.feature), medians.get(d.feature)
    if not (_finite(raw_seg) and _finite(raw_pop)):
        return d
    seg, pop = float(raw_seg), float(raw_pop)  # type: ignore[arg-type]
    if seg == pop:  # "median 2 vs 2" says nothing
        return Differentiator(d.feature, float(seg), float(pop), 0.0)
    sign = 1.0 if seg > pop else -1.0
    size = abs(d.std_diff) if d.std_diff * sign > 0 else 0.3
    return Differentiator(d.feature, float(seg), float(pop), sign * size)


RFM_GAP = 0.15


def _relative_gap(segment: float, population: float) -> float:
    """``|segment - population| / |population|`` (infinite when the population value is 0)."""
    if not (_finite(segment) and _finite(population)):
        return 0.0
    if population == 0:
        return math.inf if segment != 0 else 0.0
    return abs(segment - population) / abs(population)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def card_facts(p: SegmentProfile, population: dict[str, Any]) -> list[Differentiator]:
    """What a card says sets the segment apart: for a segment named after its RFM
    position, recency, frequency and monetary value first (the facts behind the name),
    then the strongest other differences; otherwise the profile's differentiators.
    Numeric differences follow the medians (see :func:`_robust`)."""
    means = population.get("mean") or {}
    medians = population.get("median") or {}
    facts = list(p.differentiators)
    if p.name_source == "archetype" or (p.name_source == "override" and p.position):
        facts = [
            Differentiator(f, p.means[f], float(means.get(f, float("nan"))), p.std_diffs[f])
            for f in _RFM
            if f in p.std_diffs and f in p.means
        ]
        facts += [d for d in p.differentiators if d.feature not in _RFM][:2]
    robust = [_robust(p, d, medians) for d in facts]
    out = []
    for d in robust:
        if (
            d.feature in _RFM
            and p.name_source != "differentiators"
            and d.std_diff != 0
            and _relative_gap(d.segment_mean, d.population_mean) >= RFM_GAP
        ):
            # The facts behind an RFM name are said whenever the medians clearly differ.
            d = Differentiator(
                d.feature,
                d.segment_mean,
                d.population_mean,
                math.copysign(max(abs(d.std_diff), 0.3), d.std_diff),
            )
        if "=" not in d.feature and _relative_gap(d.segment_mean, d.population_mean) < 0.05:
            continue  # "median 657 vs 647" is not a difference worth a line
        if abs(d.std_diff) >= 0.1:
            out.append(d)
    return out


def sentence(p: SegmentProfile, facts: list[Differentiator] | None = None) -> str:
    """One sentence on what sets a segment apart from the average customer."""
    chosen = [d for d in (p.differentiators if facts is None else facts) if abs(d.std_diff) >= 0.25]
    chosen = chosen[:4]
    if not chosen:
        return "Close to the average customer on every feature."
    words = [_fact(d.feature, d.std_diff) for d in chosen]
    text = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
    used = [d.feature for d in chosen]
    if all(f in _WORDS for f in used):
        return f"Compared with the average customer they {text}."
    return f"Compared with the average customer: {text}."


def _value(feature: str, value: float, units: dict[str, str]) -> str:
    if "=" in feature:
        return share(value)
    return number(value, units.get(feature, ""))


def _histogram_svg(counts: list[int]) -> str:
    if not counts or not sum(counts):
        return ""
    top = max(counts)
    bars = "".join(
        f'<rect x="{i * 10}" y="{24 - 22 * c / top:.1f}" width="9" height="{22 * c / top:.1f}"/>'
        for i, c in enumerate(counts)
    )
    return (
        '<svg class="spark" viewBox="0 0 100 24" width="100" height="24" role="img" '
        f'aria-label="confidence histogram">{bars}</svg>'
    )


def segment_card(
    p: SegmentProfile,
    names: dict[int, str],
    population: dict[str, Any],
    units: dict[str, str],
    key_features: list[str],
    outcome_row: dict[str, Any] | None,
    outcome: dict[str, Any] | None,
) -> str:
    """The card of one segment."""
    medians = population.get("median") or {}
    means = population.get("mean") or {}
    facts = card_facts(p, population)
    apart = []
    for d in facts:
        arrow = "▲" if d.std_diff > 0 else "▼"
        if "=" in d.feature:
            column, level = d.feature.split("=", 1)
            seg, pop = share(d.segment_mean), share(d.population_mean)
            text = f"{label(column)} = {level}: {seg} vs {pop} overall"
            apart.append(
                f"<li>{arrow} {e(text)} <span class='muted'>({d.std_diff:+.2f} sd)</span></li>"
            )
            continue
        unit = units.get(d.feature, "")
        seg = number(p.medians.get(d.feature, float("nan")), unit)
        pop = number(medians.get(d.feature, d.population_mean), unit)
        apart.append(f"<li>{arrow} {e(label(d.feature))}: median {e(seg)} vs {e(pop)} overall</li>")
    versus = ""
    if p.nearest is not None and p.vs_nearest:
        items = "".join(
            f"<li>{e(c.phrase())}: {e(_value(c.feature, c.segment_mean, units))} vs "
            f"{e(_value(c.feature, c.other_mean, units))} "
            f"<span class='muted'>({c.std_diff:+.2f} sd)</span></li>"
            for c in p.vs_nearest
        )
        closest = e(names.get(p.nearest, p.nearest))
        versus = f"<h4>Versus the closest segment, {closest}</h4><ul>{items}</ul>"
    nan = float("nan")
    numbers = "".join(
        f"<tr><td>{e(label(f))}</td><td>{e(_value(f, p.medians.get(f, nan), units))}</td>"
        f"<td class='muted'>{e(_value(f, medians.get(f, means.get(f, nan)), units))}</td></tr>"
        for f in key_features
        if f in p.medians
    )
    key_table = (
        f"<table class='mini'><tr><th>median</th><th>segment</th><th>all</th></tr>{numbers}</table>"
        if numbers
        else ""
    )
    outcome_html = ""
    if outcome and outcome_row and outcome_row.get("value") is not None:
        rate = outcome.get("kind") == "rate"
        fmt = share if rate else (lambda v: number(v))
        low, high = e(fmt(outcome_row.get("low"))), e(fmt(outcome_row.get("high")))
        outcome_html = (
            f"<p class='outcome'><b>{e(outcome.get('label', 'outcome'))}:</b> "
            f"{e(fmt(outcome_row['value']))} <span class='muted'>(95% CI {low}{DASH}{high}; "
            f"all customers {e(fmt(outcome.get('overall')))})</span></p>"
        )
    c = p.confidence or {}
    confidence = ""
    if c:
        confidence = (
            f"<p class='confidence'>Assignment confidence: median {c.get('median', nan):.2f}; "
            f"{c.get('low_share', 0):.0%} of members near a boundary "
            f"{_histogram_svg(c.get('histogram', []))}</p>"
        )
    examples = (
        f"<p class='examples'><b>Typical customers:</b> {e(', '.join(p.examples))}</p>"
        if p.examples
        else ""
    )
    source = _SOURCE.get(p.name_source, "")
    badge = f"<span class='badge'>{e(source)}</span>" if source else ""
    return (
        f'<article class="card" data-segment="{p.id}" style="border-top:5px solid {colour(p.id)}">'
        f"<h3>{e(p.name)}</h3>{badge}"
        f'<div class="size">{p.size:,} customers · {share(p.share)}'
        f'<span class="muted"> · segment {p.id}</span></div>'
        f"<p class='sentence'>{e(sentence(p, facts))}</p>"
        f"<div class='action'><b>What to do:</b> {e(p.action)}</div>"
        f"{outcome_html}"
        + (f"<h4>Sets them apart</h4><ul>{''.join(apart)}</ul>" if apart else "")
        + versus
        + key_table
        + confidence
        + examples
        + "</article>"
    )


def key_features(
    catalogue: list[dict[str, Any]], profiles: list[SegmentProfile], boxed: list[str]
) -> list[str]:
    """Up to five numeric features for the cards' key numbers (behavioural ones first,
    then those that differ most between segments; 0/1 numbers are left to the heatmap)."""
    numeric = [str(c["feature"]) for c in catalogue if c.get("kind") in ("numeric", "datetime")]
    features = [f for f in boxed if f in numeric] or numeric
    if not features and profiles:
        features = [f for f in profiles[0].medians if "=" not in f]
    preferred = [f for f in (*_RFM, "avg_order_value", "tenure_days") if f in numeric]
    return (preferred + [f for f in features if f not in preferred])[:5]


def cards_section(
    profiles: list[SegmentProfile], summary: dict[str, Any], exhibits: dict[str, Any]
) -> str:
    """The segment cards."""
    names = names_by_id(profiles)
    catalogue = exhibits.get("catalogue") or []
    units = {str(c["feature"]): str(c.get("unit", "")) for c in catalogue}
    population = exhibits.get("population") or {}
    outcome = summary.get("outcome")
    rows = {r["segment"]: r for r in (outcome or {}).get("segments", [])}
    keys = key_features(
        catalogue, profiles, list((exhibits.get("boxes") or {}).get("features") or [])
    )
    cards = "".join(
        segment_card(p, names, population, units, keys, rows.get(p.id), outcome) for p in profiles
    )
    unassigned = [p for p in profiles if p.id == UNASSIGNED]
    extra = (
        f"<p class='muted'>{unassigned[0].size:,} customers fit no segment and are shown as "
        f"“{e(unassigned[0].name)}”.</p>"
        if unassigned
        else ""
    )
    return (
        '<section id="segments"><h2>The segments</h2>'
        "<p class='muted'>One card per segment: who they are, what sets them apart, what to "
        "do. Names are suggestions: change them with <code>segmint rename</code>.</p>"
        f'<div class="cards">{cards}</div>{extra}</section>'
    )


def outcome_block(outcome: dict[str, Any]) -> str:
    """The test result and the per-segment table of the outcome overlay."""
    rate = outcome.get("kind") == "rate"

    def fmt(v: Any) -> str:
        return share(v) if rate else number(v)

    rows = "".join(
        f"<tr><td>{e(r['name'])}</td><td>{r['n']:,}</td><td>{e(fmt(r['value']))}</td>"
        f"<td>{e(fmt(r.get('low')))} {DASH} {e(fmt(r.get('high')))}</td></tr>"
        for r in outcome.get("segments", [])
    )
    test = ""
    if outcome.get("p_value") is not None:
        effect = outcome.get("effect")
        effect_text = (
            f", {outcome.get('effect_name', 'effect')} {effect:.2f}"
            if isinstance(effect, (int, float)) and math.isfinite(effect)
            else ""
        )
        p_text = e(format_p(outcome["p_value"]))
        test = (
            f"<p>{e(outcome['test'])} test across segments: statistic {outcome['statistic']:.2f}"
            f" ({outcome.get('dof')} degrees of freedom), {p_text}{e(effect_text)}.</p>"
        )
    missing = outcome.get("n_missing", 0)
    return (
        f"<p class='verdict'><b>{e(outcome.get('conclusion', ''))}</b></p>{test}"
        f"<p class='muted'>{e(outcome['column'])} was never used to form the segments. "
        f"{outcome.get('n', 0):,} customers have a value"
        + (f"; {missing:,} without one are left out" if missing else "")
        + f". Intervals: {e(outcome.get('interval', ''))}.</p>"
        f"<div class='table-wrap'><table><tr><th>segment</th><th>customers</th>"
        f"<th>{e(outcome.get('label', ''))}</th><th>95% interval</th></tr>{rows}</table></div>"
    )


def profile_table(profiles: list[SegmentProfile], units: dict[str, str]) -> str:
    """Every feature's mean and median per segment."""
    if not profiles:
        return ""
    features = list(profiles[0].means)
    head = "".join(f"<th>{e(p.name)}</th>" for p in profiles)
    rows = "".join(
        f"<tr><td>{e(label(f))}</td>"
        + "".join(
            f"<td>{e(_value(f, p.means.get(f, float('nan')), units))}"
            + (f" / {e(_value(f, p.medians.get(f, float('nan')), units))}" if "=" not in f else "")
            + "</td>"
            for p in profiles
        )
        + "</tr>"
        for f in features
    )
    return (
        "<p class='muted'>Mean / median of every feature in its own unit; categories show the "
        "share of members with that level.</p>"
        f"<div class='table-wrap'><table><tr><th>feature</th>{head}</tr>{rows}</table></div>"
    )


def decisions_list(summary: dict[str, Any]) -> str:
    """Every preparation decision, one line each."""
    items = []
    for d in (summary.get("preparation") or {}).get("decisions", []):
        details = ", ".join(
            f"{k}: {v}"
            for k, v in d.items()
            if k not in ("column", "action") and not isinstance(v, (list, dict))
        )
        items.append(
            f"<li><b>{e(d.get('column', ''))}</b>: {e(d.get('action', ''))}"
            + (f" ({e(details)})" if details else "")
            + "</li>"
        )
    return f"<ul class='decisions'>{''.join(items)}</ul>"

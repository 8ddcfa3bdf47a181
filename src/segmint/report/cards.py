"""One card per segment, the outcome block, the full profile table and the decisions."""

from __future__ import annotations

import math
from typing import Any

from segmint.naming import UNASSIGNED
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


def sentence(p: SegmentProfile) -> str:
    """One sentence on what sets a segment apart from the average customer."""
    facts = [_fact(d.feature, d.std_diff) for d in p.differentiators if abs(d.std_diff) >= 0.25]
    if not facts:
        return "Close to the average customer on every feature."
    text = ", ".join(facts[:-1]) + (" and " if len(facts) > 1 else "") + facts[-1]
    used = [d.feature for d in p.differentiators if abs(d.std_diff) >= 0.25]
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
    apart = []
    for d in p.differentiators:
        if abs(d.std_diff) < 0.1:
            continue
        if "=" in d.feature:
            column, level = d.feature.split("=", 1)
            seg, pop = share(d.segment_mean), share(d.population_mean)
            text = f"{label(column)} = {level}: {seg} vs {pop} overall"
        else:
            seg_median = p.medians.get(d.feature, float("nan"))
            pop_median = medians.get(d.feature, d.population_mean)
            unit = units.get(d.feature, "")
            seg, pop = number(seg_median, unit), number(pop_median, unit)
            text = f"{label(d.feature)}: median {seg} vs {pop} overall"
        arrow = "▲" if d.std_diff > 0 else "▼"
        apart.append(
            f"<li>{arrow} {e(text)} <span class='muted'>({d.std_diff:+.2f} sd)</span></li>"
        )
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
        f"<p class='sentence'>{e(sentence(p))}</p>"
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
    preferred = [f for f in _WORDS if f in features]
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

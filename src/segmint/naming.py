"""Names and recommended actions for segments.

Archetypes. When the features include recency, frequency and monetary value (a
transaction log, or a customer table with such columns), segments get a name from the
customer-analytics vocabulary: Champions, Loyal, Big spenders, Potential loyalists, New
customers, Promising, Need attention, About to sleep, At risk, Can't lose them,
Hibernating, Lost. Each customer is ranked against all customers on recency (recent is
high), frequency, monetary value and tenure; a segment's *position* is the mean
percentile rank of its members. Archetypes are prototype positions; segments are matched
to archetypes one to one by minimum total distance (Hungarian method), so names follow
relative position, not fixed score cut-offs, and are unique. More than twelve segments:
the segments left over are named by their differentiators.

Other data. A segment is named by its strongest differentiators ("High income, low
spending score"); "Typical customers" when nothing stands out.

Special segments. With one segment (no structure found) the segment is "All customers".
Segment id -1 (customers an algorithm left unassigned, e.g. noise) is "Unassigned".

Names are always unique: a repeated name gets " (2)", " (3)", ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

DIFFERENTIATOR_MIN = 0.25
UNASSIGNED = -1
UNASSIGNED_NAME = "Unassigned"
UNASSIGNED_ACTION = (
    "These customers fit no segment well: review them one by one or leave them out of "
    "segment campaigns."
)
ALL_CUSTOMERS_NAME = "All customers"
ALL_CUSTOMERS_ACTION = (
    "No distinct groups were found: treat customers as one audience and personalise on "
    "individual behaviour instead."
)
TYPICAL_NAME = "Typical customers"
TYPICAL_ACTION = "The baseline: use as the control group for campaigns."

# Archetype: (recency score, frequency score, monetary score, tenure score), 1 = high
# (for recency: most recent), and the recommended action.
ARCHETYPES: dict[str, tuple[tuple[float, float, float, float], str]] = {
    "Champions": (
        (0.85, 0.85, 0.85, 0.7),
        "Reward them: early access, loyalty perks, ask for reviews and referrals; "
        "no discounts needed.",
    ),
    "Loyal": (
        (0.65, 0.75, 0.7, 0.7),
        "Upsell higher-value products and invite them into the loyalty programme.",
    ),
    "Big spenders": (
        (0.55, 0.35, 0.85, 0.5),
        "Premium offers and personal service; protect the relationship.",
    ),
    "Potential loyalists": (
        (0.75, 0.55, 0.5, 0.45),
        "Offer membership or a loyalty programme; recommend related products.",
    ),
    "New customers": (
        (0.9, 0.2, 0.25, 0.1),
        "Onboard them well: welcome series and an incentive for the second order.",
    ),
    "Promising": (
        (0.7, 0.3, 0.35, 0.4),
        "Build the habit: personalised recommendations and a time-limited offer.",
    ),
    "Need attention": (
        (0.5, 0.5, 0.5, 0.5),
        "Re-engage with limited-time offers based on what they bought before.",
    ),
    "About to sleep": (
        (0.4, 0.3, 0.3, 0.5),
        "Reactivate before they lapse: popular products and a modest discount.",
    ),
    "At risk": (
        (0.25, 0.65, 0.65, 0.7),
        "Win them back: personal e-mails, a win-back offer, ask what changed.",
    ),
    "Can't lose them": (
        (0.12, 0.85, 0.85, 0.8),
        "Win them back at almost any cost: personal contact, the best offers.",
    ),
    "Hibernating": (
        (0.25, 0.25, 0.25, 0.5),
        "Low-cost reactivation with relevant products; keep out of paid campaigns.",
    ),
    "Lost": (
        (0.08, 0.1, 0.1, 0.5),
        "One strong revival offer; otherwise stop spending on them.",
    ),
}
POSITION_AXES = ("recency", "frequency", "monetary", "tenure")
_AXIS_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.5])  # tenure matters less than R, F and M
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


def action_for(name: str) -> str:
    """The recommended action of an archetype name ("" for any other name)."""
    entry = ARCHETYPES.get(name)
    return entry[1] if entry else ""


def humanise(feature: str) -> str:
    """Readable words for a column name: ``avg_order_value`` -> "avg order value"."""
    if "=" in feature:
        column, level = feature.split("=", 1)
        return f"{humanise(column)} {level}"
    text = re.sub(r"\([^)]*\)", "", feature)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"[_\s]+", " ", text).strip().lower()
    return text or feature


@dataclass(frozen=True)
class Differentiator:
    """A feature that sets a segment apart: standardised difference from the population.

    Attributes
    ----------
    feature : str
        Feature name in the user's units (``column`` or ``column=level``).
    segment_mean : float
        Mean of the segment's members.
    population_mean : float
        Mean of all segmented customers.
    std_diff : float
        ``(segment_mean - population_mean) / population standard deviation``.
    binary : bool
        A 0/1 column (a flag such as ``SeniorCitizen``): said as a share of customers.
    """

    feature: str
    segment_mean: float
    population_mean: float
    std_diff: float
    binary: bool = False

    def phrase(self) -> str:
        """Short words for a name: "high income", "mostly month-to-month contract",
        "mostly senior citizens", "high spenders on wines", "frequent web buyers"."""
        if "=" in self.feature or self.binary:
            return _share_phrase(self.feature, self.std_diff, self.segment_mean)
        return _phrase(self.feature, self.std_diff)


@dataclass(frozen=True)
class Contrast:
    """How a segment differs from its nearest other segment on one feature.

    Attributes
    ----------
    feature : str
    segment_mean : float
    other_mean : float
        Mean of the nearest other segment.
    std_diff : float
        ``(segment_mean - other_mean) / population standard deviation``.
    """

    feature: str
    segment_mean: float
    other_mean: float
    std_diff: float

    def phrase(self) -> str:
        """Words such as "higher monetary" or "more Month-to-month contract"."""
        if "=" in self.feature:
            column, level = self.feature.split("=", 1)
            return f"{'more' if self.std_diff > 0 else 'less'} often {humanise(column)} {level}"
        return f"{'higher' if self.std_diff > 0 else 'lower'} {humanise(self.feature)}"


# Words that mark what kind of quantity a column holds (the column's words, lower case).
_SPEND = {"mnt", "amount", "amt", "spend", "spent", "spending", "sales", "revenue", "monetary"}
_COUNT = {"num", "number", "count", "n", "nb"}
_BOUGHT = {"purchases", "purchase", "orders", "order", "transactions", "buys"}
_VISITS = {"visits", "visit", "sessions"}
# "Spending score" is a rating of spending, not money spent on a product called "score".
_MEASURE = {"score", "index", "rating", "rank", "level", "grade", "points", "tier"}
# Words that say nothing on their own when comparing two columns for the same fact.
_FILLER = {"num", "number", "count", "n", "nb", "total", "avg", "average", "mean", "of",
           "the", "per", "a", "in", "on", "month", "monthly", "year", "yearly", "amount",
           "mnt", "amt", "value"}  # fmt: skip
_YOUNG_OLD = {"age": ("older", "younger")}
# Household members counted in a column ("Kidhome", "n_children", "teens_at_home").
_HOUSEHOLD = {"kidhome": "young children", "kid": "young children", "kids": "young children",
              "child": "children", "children": "children", "teenhome": "teenagers",
              "teen": "teenagers", "teens": "teenagers", "teenagers": "teenagers",
              "dependents": "dependents", "dependent": "dependents"}  # fmt: skip
_HOUSEHOLD_FILLER = {"home", "household", "at", "in", "the", "of", "with"}
_BIRTH = {"birth", "born", "yob"}
_RECENCY = {"recency"}
_TENURE = {"tenure"}


def feature_words(feature: str) -> list[str]:
    """The words of a feature's column name: ``MntWines`` -> ["mnt", "wines"]."""
    column = feature.split("=", 1)[0]
    return humanise(column).split()


def _plural(words: str) -> str:
    return words if words.endswith("s") else f"{words}s"


def _share_phrase(feature: str, std_diff: float, share: float) -> str:
    """A level or a 0/1 flag, said as how many of the segment have it."""
    if "=" in feature:
        column, level = feature.split("=", 1)
        mark = level.strip().lower()
        shown = level.strip() if level.strip().isupper() else mark  # acronyms stay: DSL
        words = humanise(column)
        if mark in _YES:
            what = words
        elif mark in _NO:
            what = f"no {words}"
        elif words in mark or mark.startswith("no ") or mark in ("missing", "other"):
            what = level.strip().lower() if mark not in ("missing", "other") else f"{mark} {words}"
        elif len(feature_words(feature)) == 1 and words in ("gender", "genre", "sex"):
            what = mark
        else:
            what = f"{shown} {words}"
    else:
        what = _plural(humanise(feature))
    if "=" in feature and feature.split("=", 1)[1].strip().lower() in _YES | _NO and share < 0.5:
        # "Partner=Yes" on 10% of the segment: 90% have no partner.
        yes = feature.split("=", 1)[1].strip().lower() in _YES
        words = humanise(feature.split("=", 1)[0])
        what, share, std_diff = (f"no {words}" if yes else words), 1.0 - share, -std_diff
    if std_diff > 0:
        return f"mostly {what}" if share >= 0.5 else f"more {what}"
    return f"no {what}" if share <= 0.02 else f"few {what}"


def _phrase(feature: str, std_diff: float) -> str:
    if "=" in feature:
        return _share_phrase(feature, std_diff, 1.0 if std_diff > 0 else 0.0)
    high = std_diff > 0
    words = feature_words(feature)
    rest = [w for w in words if w not in _SPEND | _COUNT]
    if words and words[0] in _SPEND and rest and all(w in _MEASURE or w.isdigit() for w in rest):
        return f"{'high' if high else 'low'} {' '.join(w for w in words if not w.isdigit())}"
    if words and words[0] in _SPEND and rest:
        return f"{'high' if high else 'low'} spenders on {' '.join(rest)}"
    bought = [w for w in rest if w in _BOUGHT | _VISITS]
    if bought and (words[0] in _COUNT) and len(rest) > len(bought):
        where = " ".join(
            w.removesuffix("s") if w in _DISCOUNT else w
            for w in rest
            if w not in _BOUGHT | _VISITS | {"month", "monthly"}
        )
        noun = "visitors" if bought[0] in _VISITS else "buyers"
        if where:
            return f"{'frequent' if high else 'infrequent'} {where} {noun}"
    members = {_HOUSEHOLD[w] for w in words if w in _HOUSEHOLD}
    if len(members) == 1 and set(words) <= set(_HOUSEHOLD) | _HOUSEHOLD_FILLER | _COUNT:
        who = members.pop()
        return f"families with {who}" if high else f"few {who} at home"
    if "age" in words and len(words) <= 2 and not set(words) & set(_HOUSEHOLD):
        return "older" if high else "younger"
    if _BIRTH & set(words):
        return "younger" if high else "older"
    if _RECENCY & set(words):
        return "long since the last order" if high else "recent buyers"
    if _TENURE & set(words) and len(words) <= 2:
        return "long-standing customers" if high else "recent sign-ups"
    return f"{'high' if high else 'low'} {humanise(feature)}"


def same_thing(a: str, b: str) -> bool:
    """Whether two features are facets of one thing: the content words of one column name
    are all among the other's ("purchases frequency" and "purchases installments
    frequency", "monthly charges" and "total charges")."""
    wa = set(feature_words(a)) - _FILLER
    wb = set(feature_words(b)) - _FILLER
    if a.split("=", 1)[0] == b.split("=", 1)[0]:
        return True
    return bool(wa) and bool(wb) and (wa <= wb or wb <= wa)


ACTIVE = ("Champions", "Loyal", "Potential loyalists", "New customers", "Promising")
LAPSED = ("At risk", "Can't lose them", "Hibernating", "Lost")
REPEAT = ("Champions", "Loyal", "Can't lose them", "At risk")
BIG = ("Champions", "Big spenders", "Can't lose them")
ACTIVE_DAYS = 365  # a segment whose typical customer last ordered longer ago is not active
REPEAT_ORDERS = {"Champions": 3, "Loyal": 3, "Can't lose them": 3, "At risk": 2}


def archetype_fits(
    name: str,
    position: Mapping[str, float],
    medians: Mapping[str, float] | None = None,
    population: Mapping[str, float] | None = None,
) -> bool:
    """Whether a segment's recency, frequency and monetary value agree with an archetype.

    Relative conditions (percentile positions, 0..1): an active archetype (Champions,
    Loyal, Potential loyalists, New customers, Promising) needs recency >= 0.5, a lapsed
    one (At risk, Can't lose them, Hibernating, Lost) recency <= 0.5; a repeat-buyer
    archetype (Champions, Loyal, Can't lose them, At risk) frequency >= 0.5; a big-value
    one (Champions, Big spenders, Can't lose them) monetary >= 0.6; New customers
    frequency <= 0.5. Absolute conditions on the segment's medians, when given: an active
    archetype needs a median recency within :data:`ACTIVE_DAYS` days and no longer than
    the population's median; a repeat-buyer archetype at least
    :data:`REPEAT_ORDERS` orders (when frequency counts whole orders).
    """
    r, f, m = (position.get(axis, 0.5) for axis in ("recency", "frequency", "monetary"))
    if (name in ACTIVE and r < 0.5) or (name in LAPSED and r > 0.5):
        return False
    if (name in REPEAT and f < 0.5) or (name in BIG and m < 0.6):
        return False
    if name == "New customers" and f > 0.5:
        return False
    if medians:
        recency, orders = medians.get("recency"), medians.get("frequency")
        if name in ACTIVE and recency is not None and np.isfinite(recency):
            typical = (population or {}).get("recency")
            limit = min(ACTIVE_DAYS, typical if typical is not None else ACTIVE_DAYS)
            if recency > limit:
                return False
        whole = bool(medians.get("frequency_whole", True))
        if name in REPEAT_ORDERS and orders is not None and whole and np.isfinite(orders):
            return bool(orders >= REPEAT_ORDERS[name])
    return True


def archetype_names(
    positions: Sequence[dict[str, float]],
    medians: Sequence[Mapping[str, float]] | None = None,
    population: Mapping[str, float] | None = None,
) -> list[str]:
    """Archetype of every segment from its position (one-to-one, Hungarian method).

    Parameters
    ----------
    positions : sequence of dict
        Per segment, the mean percentile rank (0..1) of its members on ``recency``
        (recent is high), ``frequency``, ``monetary`` and ``tenure``.
    medians : sequence of dict, optional
        Per segment, the median ``recency`` (days) and ``frequency`` (orders), and
        ``frequency_whole`` (whether frequency counts whole orders).
    population : dict, optional
        The same medians over all customers.

    Returns
    -------
    list of str
        One archetype per segment, all different; "" for a segment no archetype fits
        (:func:`archetype_fits`) and for segments left over when there are more segments
        than archetypes: those are named by their differentiators.
    """
    names = list(ARCHETYPES)
    prototypes = np.array([ARCHETYPES[name][0] for name in names])
    points = np.array([[p.get(axis, 0.5) for axis in POSITION_AXES] for p in positions])
    if len(points) == 0:
        return []
    cost = np.sqrt(
        (((points[:, None, :] - prototypes[None, :, :]) ** 2) * _AXIS_WEIGHTS).sum(axis=2)
    )
    misfit = np.array(
        [
            [
                not archetype_fits(name, p, medians[i] if medians else None, population)
                for name in names
            ]
            for i, p in enumerate(positions)
        ]
    )
    cost[misfit] += _MISFIT
    rows, cols = linear_sum_assignment(cost)
    out = [""] * len(positions)
    for r, c in zip(rows, cols, strict=True):
        out[r] = "" if misfit[r, c] else names[c]
    return out


_MISFIT = 1e6


def distinct_facts(features: Sequence[str], std_diffs: Mapping[str, float]) -> list[str]:
    """``features`` in order, each fact said once.

    Several columns often carry the same level ("No internet service" of every add-on
    column of a telco table): a level whose text was already said, as a level or as
    the phrase of an earlier feature ("no internet service"), is skipped.
    """
    said: set[str] = set()
    out = []
    for feature in features:
        level = feature.split("=", 1)[1].strip().lower() if "=" in feature else None
        if level is not None and level not in _YES | _NO and level in said:
            continue
        phrase = _phrase(feature, std_diffs.get(feature, 0.0)).lower()
        said.add(phrase)
        said.add(re.sub(r"^(mostly|more|few) ", "", phrase))
        if level is not None:
            said.add(level)
        out.append(feature)
    return out


def differentiator_name(
    differentiators: Sequence[Differentiator], taken: set[str]
) -> tuple[str, str]:
    """A short name and an action from a segment's strongest differentiators.

    The name says the one or two strongest differences, never two facets of one thing
    (:func:`same_thing`), preferring what a segment *has* over a level it lacks; more
    differences are added only when the name is taken. The action follows the kind of
    the strongest difference (:func:`action_for_difference`). "Typical customers" when
    nothing stands out. The name may still be taken; :func:`unique_names` settles that.
    """
    strong = [d for d in differentiators if abs(d.std_diff) >= DIFFERENTIATOR_MIN]
    # Names read best from what a segment *has*: a level's absence ("few female") is only
    # used when nothing else stands out.
    present = [d for d in strong if "=" not in d.feature or d.std_diff > 0]
    strong = present + [d for d in strong if d not in present]
    keep = set(distinct_facts([d.feature for d in strong], {d.feature: d.std_diff for d in strong}))
    distinct: list[Differentiator] = []
    for d in strong:
        if d.feature in keep and not any(same_thing(d.feature, o.feature) for o in distinct):
            distinct.append(d)
    if not distinct:
        return TYPICAL_NAME, TYPICAL_ACTION
    name = ""
    for count in range(min(2, len(distinct)), len(distinct) + 1):
        name = _capitalise(_join([d.phrase() for d in distinct[:count]]))
        if name not in taken:
            break
    return name, action_for_difference(distinct[0], distinct[1:3])


def _join(phrases: list[str]) -> str:
    """ "high spenders on wines, high spenders on meat" -> "high spenders on wines and meat"."""
    out: list[str] = []
    for phrase in phrases:
        if out and phrase.startswith("mostly ") and out[-1].startswith("mostly "):
            phrase = phrase.removeprefix("mostly ")  # "mostly male, over 40", not "mostly" twice
        for i, said in enumerate(out):
            head = " on ".join(said.split(" on ")[:1])
            if " on " in said and phrase.startswith(f"{head} on "):
                out[i] = f"{said} and {phrase[len(head) + 4 :]}"
                break
        else:
            out.append(phrase)
    return ", ".join(out)


_SPENT = {"monetary", "spend", "spent", "revenue", "charges", "charge", "billing", "bill"}
_HOLDING = {"service", "services", "lines", "line", "product", "products", "streaming",
            "protection", "support", "security", "backup", "insurance", "card",
            "account"}  # fmt: skip
_DISCOUNT = {"deal", "deals", "discount", "discounts", "coupon", "coupons", "promo", "promotion"}
_CHANNEL = {"web", "online", "store", "catalog", "catalogue", "app", "mobile", "channel", "shop"}
_PLAN = {"contract", "plan", "subscription", "tier", "membership"}
_DEMOGRAPHIC = {"age", "birth", "born", "income", "gender", "genre", "sex", "senior", "kid",
                "kidhome", "teenhome", "children", "dependents", "partner", "marital",
                "education", "citizen"}  # fmt: skip


def difference_kind(feature: str) -> str:
    """What a feature is about, for the action: spend, recency, frequency, tenure, plan,
    channel, discount, demographic, holding (a service or product held) or other."""
    words = set(feature_words(feature))
    first = feature_words(feature)[:1]
    if words & _DISCOUNT:
        return "discount"
    if words & _RECENCY:
        return "recency"
    if words & _TENURE:
        return "tenure"
    if words & _PLAN:
        return "plan"
    if (first and first[0] in _SPEND) or words & _SPENT:
        return "spend"
    if words & _CHANNEL:
        return "channel"
    if words & ({"frequency", "orders", "purchases", "visits"} | _BOUGHT):
        return "frequency"
    if words & _DEMOGRAPHIC:
        return "demographic"
    if words & _HOLDING:
        return "holding"
    return "other"


def action_for_difference(main: Differentiator, also: Sequence[Differentiator] = ()) -> str:
    """A recommended action from the kind and direction of the strongest difference."""
    high = main.std_diff > 0
    what = main.phrase()
    kind = difference_kind(main.feature)
    if kind == "spend":
        words = feature_words(main.feature)
        rest = " ".join(w for w in words if w not in _SPEND | _COUNT)
        # "Spending Score": a rating of spending, no product to make offers on
        product = words[0] in _SPEND and not set(words) & _MEASURE
        topic = f" on {rest}" if rest and product else ""
        text = (
            f"Premium and cross-sell offers{topic}; protect the relationship with personal service."
            if high
            else f"Entry offers and bundles{topic} to raise the basket; keep acquisition cost low."
        )
    elif kind == "recency":
        text = (
            "Win them back before they lapse: a reminder, what is new since their last "
            "order, a time-limited incentive."
            if high
            else "Keep the momentum: recommendations after each order and an invitation to "
            "the loyalty programme."
        )
    elif kind == "frequency":
        text = (
            "Reward the habit: loyalty points, subscriptions or refills, early access."
            if high
            else "Build a habit: a second-order incentive and reminders timed to their cycle."
        )
    elif kind == "tenure":
        text = (
            "Thank long-standing customers: loyalty perks and renewal offers before the term ends."
            if high
            else "Onboard them well: welcome series and a check-in in the first months."
        )
    elif kind == "plan":
        text = (
            f"Offer plan changes that fit them ({what}): a longer term or an upgrade with an "
            "incentive."
        )
    elif kind == "channel":
        text = (
            f"Reach them where they buy ({what}): put offers and service in that channel."
            if high
            else f"They rarely use this channel ({what}): invest in the channels they prefer."
        )
    elif kind == "discount":
        text = (
            "Deal seekers: time-limited promotions and bundles; watch the margin."
            if high
            else "Full-price buyers: no discounts needed; lead with quality and novelty."
        )
    elif kind == "holding":
        lacking = what.startswith(("no ", "few ", "mostly no ", "more no "))
        text = (
            f"Cross-sell what they do not have yet ({what}): a trial or a bundle."
            if lacking
            else f"Build on what they use ({what}): add-ons and bundles around it."
        )
    elif kind == "demographic":
        text = f"Speak to who they are ({what}): creative, products and channels suited to them."
    else:
        text = f"Offers built on what sets them apart: {what}."
    extra = [d.phrase() for d in also if difference_kind(d.feature) != kind]
    return text + (f" They also stand out by: {'; '.join(extra)}." if extra else "")


def unique_names(names: Sequence[str], fixed: Sequence[bool] | None = None) -> list[str]:
    """Make names unique: later repeats get " (2)", " (3)", ...

    Names marked ``fixed`` (user overrides) keep their text; a repeat of a fixed name is
    the one that gets a suffix.
    """
    fixed = list(fixed) if fixed is not None else [False] * len(names)
    taken = {n for n, f in zip(names, fixed, strict=True) if f}
    out = []
    for name, is_fixed in zip(names, fixed, strict=True):
        if is_fixed:
            out.append(name)
            continue
        base = name or "Segment"
        candidate = base
        suffix = 2
        while candidate in taken:
            candidate = f"{base} ({suffix})"
            suffix += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]

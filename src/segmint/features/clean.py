"""Cleaning a transaction log in SQL: every line gets one *state*, every state is counted.

The engine (:mod:`segmint.features.engine`) runs these statements on a DuckDB connection
holding a view ``src`` with the canonical columns ``customer_id, ts, order_id, quantity,
price, value, product, category, channel, discount, row_hash`` (``row_hash``: a hash of
every column of the raw row).

Rules, in the order they are applied (the first that fits decides a line's state):

1. **Exact duplicates.**  A row equal in every column to an earlier row is dropped and
   counted (rows are compared by a 64-bit hash of all columns *and* the role columns).
2. ``unparseable_time``: the timestamp is missing or could not be read.
3. ``future_date``: the timestamp is after the run's date (``today``).
4. ``no_value``: the amount (or quantity, or price) is missing.
5. ``after_as_of``: on or after the as-of date (left out, as it had not happened yet).
6. ``non_product``: the product code is one of the spec's non-product codes (postage,
   manual lines, fees, bank charges, ...).
7. ``stock_adjustment``: the order id starts with an adjustment prefix (``A``), or the
   line takes units out at price 0 on an order that is not a cancellation.
8. ``zero_price`` / ``negative_price``: price (or, without a price, value) 0 / below 0.
9. ``return``: the order id starts with a cancellation prefix (``C``) or the value is
   negative; otherwise ``purchase``.
10. ``voided``: a purchase line and a return line of the same customer, product, number
    of units and unit price (or value, without quantities), the return on the same day
    and not before the purchase: the mistake was undone, so neither is spend nor a return
    (pairs are formed in time order).  Online Retail's 80,995-unit order is one.
11. ``absurd_quantity``: a remaining purchase or return of at least the spec's
    ``absurd_quantity`` units (absolute value).

Purchases and returns are what features are computed from.  A return is *matched* when
the customer bought the same product (any product, without a product column) before it;
unmatched returns concern purchases before the log starts.

The per-customer **data-quality score** is ``1 - problems / lines``, where ``lines`` are
the customer's rows except those on or after the as-of date (duplicate copies included),
and ``problems`` counts the duplicate copies, unparseable and future dates, missing
values, zero and negative prices, stock adjustments, voided and absurd lines and
unmatched returns.  Non-product
lines and ordinary returns are not problems.  ``quality_reasons`` lists the non-zero
counts, e.g. ``"2 duplicate lines; 1 unmatched return"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmint.features.spec import FeatureSpec

CANONICAL = (
    "customer_id", "ts", "order_id", "quantity", "price", "value",
    "product", "category", "channel", "discount",
)  # fmt: skip
"""Canonical columns of the ``src`` view, besides ``row_hash``."""

STATES: tuple[str, ...] = (
    "purchase", "return", "non_product", "stock_adjustment", "zero_price", "negative_price",
    "voided", "absurd_quantity", "after_as_of", "future_date", "unparseable_time", "no_value",
)  # fmt: skip
"""Every state a line can end in."""

PROBLEM_STATES: tuple[str, ...] = (
    "unparseable_time", "future_date", "no_value", "zero_price", "negative_price",
    "stock_adjustment", "voided", "absurd_quantity",
)  # fmt: skip
"""States that lower a customer's data-quality score."""

REASON_TEXT = {  # (one, several)
    "duplicate": ("duplicate line", "duplicate lines"),
    "unparseable_time": ("unparseable date", "unparseable dates"),
    "future_date": ("future date", "future dates"),
    "no_value": ("line without value", "lines without value"),
    "zero_price": ("zero price", "zero prices"),
    "negative_price": ("negative price", "negative prices"),
    "stock_adjustment": ("stock adjustment", "stock adjustments"),
    "voided": ("line cancelled the same day", "lines cancelled the same day"),
    "absurd_quantity": ("absurd quantity", "absurd quantities"),
    "unmatched_return": ("unmatched return", "unmatched returns"),
}


_DUP_HASHES = """
    CREATE OR REPLACE TEMP TABLE dup_hashes AS
    SELECT row_hash FROM log_rows GROUP BY row_hash HAVING count(*) > 1
"""
"""The hashes shared by more than one row of ``log_rows``."""


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _state(state: str) -> str:
    """SQL of a line state as the ENUM of :data:`STATES`."""
    return f"CAST({literal(state)} AS ENUM ({', '.join(literal(s) for s in STATES)}))"


def _prefix_test(column: str, prefixes: tuple[str, ...]) -> str:
    """Case-insensitive prefix test (both cases spelt out: cheaper than ``upper``)."""
    if not prefixes:
        return "FALSE"
    tests = []
    for prefix in prefixes:
        for spelling in dict.fromkeys((prefix.upper(), prefix.lower())):
            tests.append(f"starts_with({column}, {literal(spelling)})")
    return "coalesce(" + " OR ".join(tests) + ", FALSE)"


@dataclass(frozen=True)
class CleaningSQL:
    """The statements of the cleaning stage for one spec, as-of date and run date."""

    spec: FeatureSpec
    as_of: str  # SQL timestamp literal
    future_cut: str  # SQL timestamp literal: the day after the run's date
    in_place: bool = True
    """Mark duplicate copies and voided lines in ``log_rows`` itself (``UPDATE``, DuckDB),
    rather than by joins in the views over it (engines without ``UPDATE``: Spark)."""

    @property
    def has_quantity(self) -> bool:
        return self.spec.quantity is not None

    def duplicates(self, checks: tuple[str, ...] = ()) -> list[str]:
        """Statements marking the copies of equal rows in ``log_rows``, and the view
        ``cls`` of the distinct lines.

        Rows whose hash occurs more than once are grouped by the hash and every column;
        the first row of a group keeps the group's number of ``copies``, the others get
        0 and leave ``cls``.  Marking rows in place (rather than joining every later scan
        against the duplicates) keeps each pass over the log a plain scan.

        ``checks`` are the reader's flag columns, equal on equal rows.
        """
        cols = ", ".join((*CANONICAL, *checks, "status"))
        if not self.in_place:
            return self._joined_duplicates(cols)
        return [
            _DUP_HASHES,
            # the marks are a table first: an UPDATE reading its own table is much slower
            f"""
            CREATE OR REPLACE TEMP TABLE dup_marks AS
            SELECT rid, CASE WHEN rid = min(rid) OVER w THEN count(*) OVER w ELSE 0 END AS n
            FROM (SELECT rowid AS rid, * FROM log_rows SEMI JOIN dup_hashes USING (row_hash))
            WINDOW w AS (PARTITION BY row_hash, {cols})
            """,
            "UPDATE log_rows SET copies = d.n FROM dup_marks AS d WHERE log_rows.rowid = d.rid",
            """
            CREATE OR REPLACE TEMP VIEW cls AS
            SELECT rowid AS rid, * FROM log_rows WHERE copies > 0
            """,
        ]

    @staticmethod
    def _joined_duplicates(cols: str) -> list[str]:
        # the distinct lines without UPDATE: the rows of a unique hash, and one row per
        # group of equal rows with its copies
        return [
            _DUP_HASHES,
            f"""
            CREATE OR REPLACE TEMP TABLE dup_marks AS
            SELECT row_hash, {cols}, count(*) AS copies
            FROM log_rows SEMI JOIN dup_hashes USING (row_hash)
            GROUP BY row_hash, {cols}
            """,
            f"""
            CREATE OR REPLACE TEMP VIEW cls AS
            SELECT row_hash, {cols}, 1 AS copies FROM log_rows ANTI JOIN dup_hashes USING (row_hash)
            UNION ALL
            SELECT row_hash, {cols}, copies FROM dup_marks
            """,
        ]

    def is_return(self) -> str:
        """The foundation's return test: negative value or a cancellation prefix."""
        return f"(value < 0 OR {_prefix_test('order_id', self.spec.cancellation_prefixes)})"

    def classified(self, checks: tuple[str, ...] = ()) -> str:
        """Every row of ``src``, typed, with its state, the as-of date aside (applied by
        :meth:`with_as_of`, so that the as-of date can come from these rows): the one
        table the log is read into (a table of the connection's database, not a TEMP
        one, so that a database file stores it compressed).  ``copies`` is set by
        :meth:`duplicates`; voided lines get their state in place (:meth:`voided`)."""
        spec = self.spec
        cancel = _prefix_test("order_id", spec.cancellation_prefixes)
        adjust = _prefix_test("order_id", spec.adjustment_prefixes)
        if spec.product is not None and spec.non_product_codes:
            # ids and codes come stripped; not ``IN (...)``: DuckDB makes a long IN list
            # a join; one search in the codes joined is cheaper
            joined = (
                "\x01" + "\x01".join(c.strip().upper() for c in spec.non_product_codes) + "\x01"
            )
            longest = max(len(c.strip().encode()) for c in spec.non_product_codes)
            # a CASE: the search runs only for codes short enough, starting as one does
            # (or with a character beyond ASCII, whose upper case may be anything)
            codes = [c.strip() for c in spec.non_product_codes if c.strip()]
            starts = sorted({ord(c[0].upper()) for c in codes} | {ord(c[0].lower()) for c in codes})
            first = f"ascii(product) IN ({', '.join(map(str, starts)) or 'NULL'})"
            non_product = (
                f"(CASE WHEN strlen(product) <= {longest} "
                f"AND ({first} OR ascii(product) > 127) "
                f"THEN contains({literal(joined)}, concat(chr(1), upper(product), chr(1))) "
                "ELSE FALSE END)"
            )
        else:
            non_product = "FALSE"
        if self.has_quantity:
            adjust = f"({adjust} OR (quantity < 0 AND price = 0 AND NOT {cancel}))"
            zero, negative = "(price = 0 OR quantity = 0)", "price < 0"
        else:
            zero, negative = "value = 0", "FALSE"
        cols = ", ".join((*CANONICAL, *checks))
        copies = ", CAST(1 AS UINTEGER) AS copies" if self.in_place else ""
        rules = [
            ("ts IS NULL", "unparseable_time"),
            (f"ts >= {self.future_cut}", "future_date"),
            ("value IS NULL", "no_value"),
            (non_product, "non_product"),
            (adjust, "stock_adjustment"),
            (zero, "zero_price"),
            (negative, "negative_price"),
            (self.is_return(), "return"),
        ]
        whens = "\n".join(f"WHEN {test} THEN {_state(state)}" for test, state in rules)
        return f"""
            CREATE OR REPLACE TABLE log_rows AS
            SELECT row_hash, {cols},
                CASE {whens} ELSE {_state("purchase")} END AS status{copies}
            FROM src
        """

    def with_as_of(self) -> str:
        """The view of the classified lines with lines on or after the as-of date set
        aside (the rule comes right after the missing values, before the others)."""
        # the new state is cast to the same ENUM, so the others stay as they are (no
        # round trip through text on every line)
        return f"""
            CREATE OR REPLACE TEMP VIEW dated AS
            SELECT * EXCLUDE (status),
                CASE
                    WHEN ts >= {self.as_of}
                         AND status NOT IN ('unparseable_time', 'future_date', 'no_value')
                    THEN {_state("after_as_of")}
                    ELSE status
                END AS status
            FROM cls
        """

    def voided(self) -> list[str]:
        """Pairs (purchase, return) undone the same day: the table ``voided`` of their
        lines (``rid``: the row of ``log_rows``), then those rows' state set in place.

        A pair has the same customer, product, day, number of units and unit price (or,
        without quantities, the same value); the k-th return of a day pairs with the k-th
        purchase, when it is not earlier.
        """
        key = "rid" if self.in_place else "row_hash"  # a row of log_rows, or of cls
        if not self.spec.void_same_day_cancellations:
            return [
                "CREATE OR REPLACE TEMP TABLE voided AS "
                f"SELECT NULL::BIGINT AS {key}, NULL::VARCHAR AS customer_id WHERE FALSE"
            ]
        if self.has_quantity:
            size, unit = "abs(quantity)", "coalesce(price, 0)"
        else:
            size, unit = "abs(value)", "0"
        part = "customer_id, pk, mq, mp, d"
        ids = "row_hash, rid" if self.in_place else "row_hash"
        keyed = f"coalesce(product, '') AS pk, {size} AS mq, {unit} AS mp, CAST(ts AS DATE) AS d"
        pairing = f"""
            CREATE OR REPLACE TEMP TABLE voided AS
            WITH x AS (
                SELECT customer_id, {keyed}, ts, {ids}
                FROM dated WHERE status = 'return' AND customer_id IS NOT NULL
            ),
            keys AS (SELECT DISTINCT {part} FROM x),
            p AS (
                SELECT customer_id, {keyed}, ts, {ids}
                FROM dated WHERE status = 'purchase' AND customer_id IS NOT NULL
            ),
            xr AS (
                SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY ts, row_hash) AS k
                FROM x
            ),
            pr AS (
                SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY ts, row_hash) AS k
                FROM p SEMI JOIN keys USING ({part})
            ),
            pairs AS (
                SELECT pr.{key} AS p_key, xr.{key} AS x_key, customer_id
                FROM xr JOIN pr USING ({part}, k)
                WHERE xr.ts >= pr.ts
            )
            SELECT p_key AS {key}, customer_id FROM pairs
            UNION
            SELECT x_key AS {key}, customer_id FROM pairs
        """
        if not self.in_place:
            return [pairing]  # :meth:`final` joins the table
        mark = f"""
            UPDATE log_rows SET status = {_state("voided")}
            WHERE rowid IN (SELECT rid FROM voided)
        """
        return [pairing, mark]

    def final(self) -> str:
        """The view of every line with its final state: absurd lines set, and voided ones
        (in place, they have theirs from :meth:`voided`)."""
        threshold = self.spec.absurd_quantity
        if self.has_quantity and threshold > 0:
            absurd = f"abs(c.quantity) >= {float(threshold)!r}"
        else:
            absurd = "FALSE"
        if self.in_place:
            voided, join = "", ""
        else:
            voided = f"WHEN v.row_hash IS NOT NULL THEN {_state('voided')}"
            join = (
                "LEFT JOIN voided AS v ON c.row_hash = v.row_hash AND c.customer_id = v.customer_id"
            )
        return f"""
            CREATE OR REPLACE TEMP VIEW final AS
            SELECT c.* EXCLUDE (status),
                CASE
                    {voided}
                    WHEN c.status IN ('purchase', 'return') AND {absurd}
                    THEN {_state("absurd_quantity")}
                    ELSE c.status
                END AS state
            FROM dated AS c
            {join}
        """

    def bought(self) -> str:
        """The table ``bought``: each product a customer bought (``product`` NULL for
        lines without one), with the first time; return matching and breadth use it."""
        return """
            CREATE OR REPLACE TEMP TABLE bought AS
            SELECT customer_id, product, min(ts) AS first_ts
            FROM final WHERE state = 'purchase' AND customer_id IS NOT NULL
            GROUP BY customer_id, product
        """

    def return_matches(self) -> str:
        """Each kept return of a customer, and whether an earlier purchase (of the same
        product, when there is a product column) matches it (needs ``bought``)."""
        return """
            CREATE OR REPLACE TEMP TABLE return_matches AS
            SELECT x.customer_id, x.row_hash, coalesce(b.first_ts <= x.ts, FALSE) AS matched
            FROM (
                SELECT customer_id, product, ts, row_hash
                FROM final WHERE state = 'return' AND customer_id IS NOT NULL
            ) AS x
            LEFT JOIN bought AS b
              ON x.customer_id = b.customer_id AND x.product IS NOT DISTINCT FROM b.product
        """

    def quality_columns(self) -> list[str]:
        """SELECT expressions on ``line_stats`` giving the score and reasons."""
        counts = {"duplicate": "duplicate_lines", "unmatched_return": "unmatched_returns"}
        counts |= {state: f"{state}_lines" for state in PROBLEM_STATES}
        problems = " + ".join(counts.values())
        total = "all_lines"
        parts = []
        for key, column in counts.items():
            one, several = REASON_TEXT[key]
            parts.append(
                f"CASE WHEN {column} = 1 THEN '1 ' || {literal(one)} "
                f"WHEN {column} > 1 THEN {column} || ' ' || {literal(several)} END"
            )
        return [
            f"greatest(0.0, 1.0 - ({problems}) / greatest({total}, 1))::DOUBLE AS quality_score",
            f"concat_ws('; ', {', '.join(parts)}) AS quality_reasons",
        ]


def line_stat_columns() -> list[str]:
    """Per-customer aggregates every run needs, over ``line_groups`` (lines summed by
    customer and state: ``n`` lines, ``c`` rows with copies, ``v`` value, ``q`` units)."""
    before = "state <> 'after_as_of'"
    late = "('unparseable_time', 'future_date', 'no_value', 'after_as_of')"
    out = [
        "sum(n) AS n_lines",
        f"coalesce(sum(c) FILTER (WHERE {before}), 0) AS all_lines",
        f"coalesce(sum(c - n) FILTER (WHERE {before}), 0) AS duplicate_lines",
    ]
    out += [f"coalesce(sum(n) FILTER (WHERE state = '{s}'), 0) AS {s}_lines" for s in STATES]
    # the foundation's count of return lines: dated, valued, before the as-of date
    out.append(
        f"coalesce(sum(n) FILTER (WHERE raw_return AND state NOT IN {late}), 0) AS raw_return_lines"
    )
    return out

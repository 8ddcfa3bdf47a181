"""Personal data: columns that hold e-mail addresses, phone numbers, names or street
addresses, and pseudonymous customer ids.

:func:`detect_pii` looks at column names and at a sample of the values:

* ``email``: at least half the values look like ``local@domain.tld``;
* ``phone``: a phone-like name (phone, mobile, tel, fax, ...) with mostly phone-like
  values (7 to 15 digits with spaces, dashes, dots, brackets or a leading ``+``), or such
  values *with* separators or a ``+`` in at least half the rows under any name;
* ``name``: a person-name column name (name, first_name, surname, full name, contact,
  ...; not product or category names), or at least 60% of values of two or three
  capitalised words over at least 50 distinct values;
* ``address``: an address-like name (address, street, addr, address_line_1, ...), or at
  least half the values shaped like ``12 High Street``.

Such columns are never features, never play a role other than the customer id, and are
not written to any output unless the user asks (``--keep-pii``).  When the customer id
itself is personal data the ids are pseudonymised.  :func:`pseudonymise` replaces ids by
``sha256(salt + ":" + id)`` (16 hex digits): the same salt gives the same pseudonyms, so
runs can be joined, and without the salt they cannot be reversed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import pandas as pd

PII_KINDS: tuple[str, ...] = ("email", "phone", "name", "address")

_EMAIL = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
_PHONE = r"^\+?[\d\s().\-/]{7,24}$"
_PHONE_SEPARATED = r"^(?:\+|.*[\s().\-/]).*$"
_PERSON = r"^[A-Z][a-z'\u2019\-]+(?:\s+[A-Z][a-z'\u2019\-]+){1,2}$"
_STREET = (
    r"^\d+[A-Za-z]?,?\s+(?:[A-Za-z'\u2019.\-]+\s+){0,4}(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|"
    r"boulevard|blvd|way|court|ct|place|pl|close|crescent|terrace|square|sq|hill|park|row|"
    r"strasse|straße|weg|gasse|platz)\.?\b.*$"
)
_PHONE_NAMES = ("phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "msisdn")
_NAME_NAMES = (
    "name", "firstname", "lastname", "surname", "fullname", "givenname", "familyname",
    "forename", "middlename", "customername", "clientname", "contactname", "contact",
    "personname", "buyername", "recipient", "recipientname", "billingname", "shippingname",
)  # fmt: skip
_ADDRESS_WORDS = ("address", "street", "addr", "streetaddress", "addressline")
_EMAIL_WORDS = ("email", "mail", "emailaddress")
_SAMPLE = 2000


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True)
class PiiColumn:
    """A column found to hold personal data.

    Attributes
    ----------
    column : str
    kind : {"email", "phone", "name", "address"}
    evidence : str
        What gave it away: ``"name"``, ``"values"`` or ``"name and values"``.
    share : float
        Share of the sampled values that look like the kind.
    """

    column: str
    kind: str
    evidence: str
    share: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"column": self.column, "kind": self.kind, "evidence": self.evidence,
                "share": round(self.share, 4)}  # fmt: skip


def _share(values: pd.Series, pattern: str, *, case: bool = False) -> float:
    if len(values) == 0:
        return 0.0
    return float(values.str.fullmatch(pattern, case=case).mean())


def _values(series: pd.Series) -> pd.Series:
    text = series.dropna()
    if not (pd.api.types.is_string_dtype(text) or pd.api.types.is_object_dtype(text)):
        text = text.astype("string")
    text = text.astype("string").str.strip()
    text = text[text != ""]
    if len(text) > _SAMPLE:
        text = text.iloc[:: max(1, len(text) // _SAMPLE)]
    return text


def classify_column(name: str, series: pd.Series) -> PiiColumn | None:
    """The kind of personal data in one column, or None."""
    key = _key(name)
    numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
    values = _values(series) if not numeric else pd.Series([], dtype="string")
    named_email = key in _EMAIL_WORDS or key.endswith("email")
    email = _share(values, _EMAIL)
    if email >= 0.5 or (named_email and email >= 0.2):
        return PiiColumn(name, "email", "name and values" if named_email else "values", email)
    named_phone = any(key == w or key.startswith(w) or key.endswith(w) for w in _PHONE_NAMES)
    phone = _share(values, _PHONE)
    if numeric and named_phone:
        return PiiColumn(name, "phone", "name", 1.0)
    if named_phone and phone >= 0.5:
        return PiiColumn(name, "phone", "name and values", phone)
    if len(values):
        separated = values[values.str.fullmatch(_PHONE, case=False)]
        digits = separated.str.count(r"\d")
        real = separated[(digits >= 7) & (digits <= 15) & separated.str.fullmatch(_PHONE_SEPARATED)]
        if len(real) / len(values) >= 0.5:
            return PiiColumn(name, "phone", "values", len(real) / len(values))
    named_address = any(w in key for w in _ADDRESS_WORDS) and "email" not in key and key[:2] != "ip"
    street = _share(values, _STREET)
    if named_address and not numeric:
        return PiiColumn(name, "address", "name and values" if street >= 0.5 else "name", street)
    if street >= 0.5:
        return PiiColumn(name, "address", "values", street)
    named_person = key in _NAME_NAMES
    person = _share(values, _PERSON, case=True)
    if named_person and not numeric:
        return PiiColumn(name, "name", "name and values" if person >= 0.6 else "name", person)
    if person >= 0.6 and values[values.str.fullmatch(_PERSON)].nunique() >= 50:
        return PiiColumn(name, "name", "values", person)
    return None


def detect_pii(frame: pd.DataFrame, *, skip: tuple[str, ...] = ()) -> list[PiiColumn]:
    """Columns of ``frame`` (a table or a sample of a log) that hold personal data.

    Parameters
    ----------
    frame : DataFrame
        Typed columns.
    skip : tuple of str
        Columns not to examine.

    Returns
    -------
    list of PiiColumn
        In column order.

    Examples
    --------
    >>> frame = pd.DataFrame({"mail": ["ann@example.com", "bob@example.org"], "n": [1, 2]})
    >>> [(c.column, c.kind) for c in detect_pii(frame)]
    [('mail', 'email')]
    """
    found = []
    for col in frame.columns:
        if col in skip:
            continue
        hit = classify_column(str(col), frame[col])
        if hit is not None:
            found.append(hit)
    return found


def new_salt() -> str:
    """A random salt (32 hex digits) for one run's pseudonyms."""
    return secrets.token_hex(16)


def pseudonymise(ids: pd.Series, salt: str) -> pd.Series:
    """Replace ids by ``sha256(salt + ":" + id)``, 16 hex digits; missing ids stay missing.

    Examples
    --------
    >>> pseudonymise(pd.Series(["a", None, "a"], dtype="string"), "s").tolist()[0] == \\
    ...     pseudonymise(pd.Series(["a"], dtype="string"), "s").tolist()[0]
    True
    """
    text = ids.astype("string")
    uniques = text.dropna().unique()
    mapping = {
        value: hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:16] for value in uniques
    }
    return text.map(mapping).astype("string")

"""The words column names are made of, per role and language: one table, read by role detection.

Every spelling is compared as a *key*: lower case, accents removed, letters and digits only
(``"Quantité"`` -> ``"quantite"``, ``"Kunden-Nr."`` -> ``"kundennr"``).  A name matches a
spelling exactly, or (for spellings of :data:`SUBSTRING_MIN` letters or more) contains it;
shorter spellings (``"data"``, ``"qte"``, ``"nota"``) only match a whole word of the name,
so that they do not fire inside unrelated English names (``metadata``, ``annotation``).

Languages: English (``en``), German (``de``), French (``fr``), Spanish (``es``),
Portuguese (``pt``), Italian (``it``) and Dutch (``nl``).  Within a role, English comes first
and the order of the spellings is the order of preference.
"""

from __future__ import annotations

import re
import unicodedata

#: Shortest spelling matched inside a longer name; shorter ones must be a whole word.
SUBSTRING_MIN = 5

#: role -> language -> spellings (keys).  Roles of a transaction log, plus the words that
#: make a column an identifier (:data:`ID_SUFFIXES`) and the entities identified.
# fmt: off
VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    # Who buys: the customer id of a log or of a customer table.
    "customer": {
        "en": ("customer", "household", "client", "member", "account", "shopper", "user", "loyalty",
               "buyer", "cust", "consumer", "subscriber", "patron"),
        "de": ("kunde", "kunden", "haushalt", "mitglied", "konto", "kaeufer", "kaufer"),
        "fr": ("client", "clients", "menage", "adherent", "compte", "acheteur"),
        "es": ("cliente", "clientes", "hogar", "socio", "cuenta", "comprador", "usuario"),
        "pt": ("cliente", "clientes", "domicilio", "socio", "conta", "comprador", "usuario"),
        "it": ("cliente", "clienti", "famiglia", "socio", "conto", "acquirente", "utente"),
        "nl": ("klant", "klanten", "huishouden", "lid", "rekening", "koper", "gebruiker"),
    },
    "time": {
        "en": ("date", "time", "timestamp", "datetime", "day", "created", "ordered", "purchased"),
        "de": ("datum", "zeit", "zeitpunkt", "tag", "kaufdatum", "bestelldatum"),
        "fr": ("date", "heure", "jour", "horodatage"),
        "es": ("fecha", "hora", "dia"),
        "pt": ("data", "hora", "dia"),
        "it": ("data", "ora", "giorno"),
        "nl": ("datum", "tijd", "dag", "tijdstip"),
    },
    "amount": {
        "en": ("amount", "total", "revenue", "sales", "spend", "spent", "value", "linetotal",
               "totalprice", "totalamount", "netamount", "grossamount", "ordervalue", "payment",
               "sale"),
        "de": ("betrag", "gesamtbetrag", "umsatz", "summe", "gesamtpreis", "wert", "bruttobetrag",
               "nettobetrag"),
        "fr": ("montant", "montanttotal", "prixtotal", "chiffreaffaires", "valeur"),
        "es": ("importe", "monto", "importetotal", "montototal", "preciototal", "venta", "ventas"),
        "pt": ("valor", "valortotal", "precototal", "montante", "venda", "vendas"),
        "it": ("importo", "importototale", "prezzototale", "totale", "valore", "vendite"),
        "nl": ("bedrag", "totaalbedrag", "totaalprijs", "omzet", "totaal", "waarde"),
    },
    "quantity": {
        "en": ("quantity", "qty", "units", "unitssold", "items", "count", "pieces"),
        "de": ("menge", "anzahl", "stueck", "stuck", "stuckzahl", "stueckzahl"),
        "fr": ("quantite", "qte", "nombre"),
        "es": ("cantidad", "cant", "unidades"),
        "pt": ("quantidade", "qtd", "qtde", "unidades"),
        "it": ("quantita", "qta", "pezzi"),
        "nl": ("aantal", "hoeveelheid", "stuks"),
    },
    "price": {
        "en": ("price", "unitprice", "unitcost", "itemprice", "priceeach", "rate"),
        "de": ("preis", "einzelpreis", "stueckpreis", "stuckpreis"),
        "fr": ("prix", "prixunitaire"),
        "es": ("precio", "preciounitario"),
        "pt": ("preco", "precounitario"),
        "it": ("prezzo", "prezzounitario"),
        "nl": ("prijs", "stukprijs", "eenheidsprijs"),
    },
    "order": {
        "en": ("invoice", "invoiceno", "invoiceid", "invoicenumber", "order", "orderid", "orderno",
               "ordernumber", "transaction", "transactionid", "receipt", "receiptid", "basket",
               "basketid", "ticket", "ticketid"),
        "de": ("rechnung", "rechnungsnummer", "rechnungsnr", "bestellung", "bestellnummer",
               "bestellnr", "auftrag", "auftragsnummer", "beleg", "belegnummer", "kassenbon", "bon",
               "warenkorb"),
        "fr": ("facture", "numerofacture", "commande", "numerocommande", "ticket", "panier",
               "recu"),
        "es": ("factura", "numerofactura", "pedido", "numeropedido", "boleta", "recibo", "ticket",
               "orden", "cesta"),
        "pt": ("nota", "notafiscal", "fatura", "pedido", "numeropedido", "recibo", "cupom"),
        "it": ("fattura", "numerofattura", "ordine", "numeroordine", "scontrino", "ricevuta"),
        "nl": ("factuur", "factuurnummer", "bestelling", "bestelnummer", "order", "bon",
               "bonnummer", "kassabon"),
    },
    "product": {
        "en": ("stockcode", "sku", "productid", "productcode", "product", "itemid", "itemcode",
               "item", "articleid", "article", "productno", "itemno", "articleno", "ean", "upc"),
        "de": ("artikel", "artikelnummer", "artikelnr", "produkt", "produktid", "warennummer"),
        "fr": ("produit", "codeproduit", "article", "reference"),
        "es": ("producto", "codigoproducto", "articulo", "referencia"),
        "pt": ("produto", "codigoproduto", "artigo", "referencia"),
        "it": ("prodotto", "codiceprodotto", "articolo"),
        "nl": ("product", "artikel", "artikelnummer", "productcode"),
    },
    "channel": {
        "en": ("channel", "saleschannel", "orderchannel", "platform", "medium", "storetype"),
        "de": ("kanal", "vertriebskanal", "verkaufskanal"),
        "fr": ("canal", "canaldevente"),
        "es": ("canal", "canaldeventa"),
        "pt": ("canal", "canaldevenda"),
        "it": ("canale", "canalevendita"),
        "nl": ("kanaal", "verkoopkanaal"),
    },
    # What a column identifies when it is not the customer: its values are labels.
    "entity": {
        "en": ("store", "shop", "branch", "outlet", "basket", "cart", "product", "order", "invoice",
               "transaction", "sku", "item", "receipt", "ticket", "article", "stock", "line",
               "session", "visit", "campaign", "coupon", "promo", "promotion", "category",
               "department", "payment", "shipment", "delivery", "batch", "device", "employee",
               "staff", "cashier", "register", "terminal", "supplier", "vendor", "region",
               "location", "site"),
        "de": ("filiale", "laden", "geschaeft", "markt", "artikel", "produkt", "rechnung",
               "bestellung", "beleg", "bon", "warenkorb", "kasse", "mitarbeiter", "lieferant"),
        "fr": ("magasin", "boutique", "produit", "commande", "facture", "panier", "caisse",
               "fournisseur"),
        "es": ("tienda", "sucursal", "producto", "articulo", "pedido", "factura", "cesta", "caja",
               "proveedor"),
        "pt": ("loja", "filial", "produto", "artigo", "pedido", "fatura", "nota", "caixa",
               "fornecedor"),
        "it": ("negozio", "filiale", "prodotto", "articolo", "ordine", "fattura", "cassa",
               "fornitore"),
        "nl": ("winkel", "filiaal", "artikel", "bestelling", "factuur", "kassa", "leverancier"),
    },
}
# fmt: on

#: Words that make a name an identifier when they end it (``store_id``, ``Kundennummer``)
#: or, for ``id`` and the Romance spellings, begin it (``id_cliente``, ``numero_client``).
ID_SUFFIXES: tuple[str, ...] = (
    "id", "no", "nr", "nbr", "num", "number", "nummer", "numero", "key", "uid", "uuid", "guid",
    "ref", "code", "cod", "codigo", "codice",
)  # fmt: skip
#: ("num", "no" and "n" are left out: ``num_items``, ``no_children`` are counts.)
ID_PREFIXES: tuple[str, ...] = ("id", "numero", "cod", "codigo", "codice", "code", "ref")
#: Identifier words that need an entity word beside them (``zip_code`` is not an id).
_WEAK_ID_WORDS = frozenset({"code", "cod", "codigo", "codice", "ref", "num", "n"})
#: Number signs that begin an id only before a customer word (``Nº cliente``).
_COUNT_PREFIXES = frozenset({"n", "no", "nr", "nro", "num"})
#: Names that are an id on their own.
BARE_IDS = frozenset({"id", "uid", "uuid", "guid", "key"})


def name_key(name: object) -> str:
    """A column name without case, accents or separators (``"Quantité"`` -> ``"quantite"``)."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("ß", "ss")
    return re.sub(r"[^0-9a-z]", "", text.lower())


def name_words(name: object) -> list[str]:
    """The words of a column name: split at separators and at lower-to-upper case changes
    (``"customerID"`` -> ``["customer", "id"]``), each as a :func:`name_key`."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    words = (name_key(part) for part in re.split(r"[^0-9A-Za-zÀ-ÿ]+", text))
    return [w for w in words if w]


def spellings(role: str) -> tuple[str, ...]:
    """Every spelling of ``role``, English first, without repeats."""
    return tuple(dict.fromkeys(w for words in VOCABULARY[role].values() for w in words))


def matches(name: object, spelling: str) -> bool:
    """Whether ``name`` contains ``spelling``: as its whole key, as one of its words, or
    (spellings of :data:`SUBSTRING_MIN` letters or more) anywhere in its key."""
    key = name_key(name)
    if key == spelling or spelling in name_words(name):
        return True
    return len(spelling) >= SUBSTRING_MIN and spelling in key


def match_column(columns: list[str], role: str, *, allowed: set[str] | None = None) -> str | None:
    """The first of ``columns`` named like ``role``: exact spellings first (in the order of
    preference), then names containing a spelling."""
    candidates = [c for c in columns if allowed is None or c in allowed]
    words = spellings(role)
    for wanted in words:
        for col in candidates:
            if name_key(col) == wanted:
                return col
    for wanted in words:
        for col in candidates:
            if matches(col, wanted):
                return col
    return None


def _strip_id(key: str, words: list[str]) -> tuple[str, str, bool] | None:
    """(what the name identifies, the id word, whether the two are written as one word)
    when the name is shaped like an id."""
    if len(words) > 1 and words[-1] in ID_SUFFIXES:
        return "".join(words[:-1]), words[-1], False
    if len(words) > 1 and words[0] in ID_PREFIXES:
        return "".join(words[1:]), words[0], False
    for suffix in sorted(ID_SUFFIXES, key=len, reverse=True):  # compounds: kundennummer
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)], suffix, True
    for prefix in sorted(ID_PREFIXES, key=len, reverse=True):  # compounds: idcliente
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :], prefix, True
    return None


def _entity_of(stem: str, role: str) -> bool:
    """Whether an id's stem names an entity of ``role`` (``"loyaltycard"`` is a customer)."""
    for word in spellings(role):
        if stem == word or (stem.startswith(word) and len(word) >= 4):
            return True
        if len(word) >= SUBSTRING_MIN and word in stem:
            return True
    return False


def id_kind(name: object) -> str | None:
    """What kind of identifier a column name says it is.

    Returns
    -------
    {"customer", "customer-word", "entity", "generic"} or None
        ``"customer"``: an id of customers (``household_id``, ``KundenID``, ``id_cliente``,
        ``loyalty_card_number``); ``"customer-word"``: the bare word (``Kunde``,
        ``client``); ``"entity"``: an id of something else (``store_id``, ``basket_id``,
        ``Rechnungsnummer``); ``"generic"``: an id of no named entity (``id``,
        ``person_id``); None: not named like an id.
    """
    key = name_key(name)
    if not key:
        return None
    if key in BARE_IDS:
        return "generic"
    if key in spellings("customer"):
        return "customer-word"
    words = name_words(name)
    if (
        len(words) > 1
        and words[0] in _COUNT_PREFIXES
        and "".join(words[1:]) in spellings("customer")
    ):
        return "customer"  # "Nº cliente", "nr_klant": with a customer word, not a count
    stripped = _strip_id(key, words)
    if stripped is None:
        return None
    stem, word, compound = stripped
    if _entity_of(stem, "customer") and not (word in _WEAK_ID_WORDS and compound):
        return "customer"
    if any(_entity_of(stem, role) for role in ("entity", "product", "order")):
        return "entity"
    # "paid", "casino", "Idade": a word that merely ends or begins like an id word
    if compound or word in _WEAK_ID_WORDS or not stem or stem.isdigit():
        return None
    return "generic"

"""What a legacy row must be to enter Rapport: the fields of each kind, how file columns
map onto them, and the checks (E.164 phones, e-mails, dates, currencies, lengths,
required fields, no formulas) that turn a row into clean values or into reasons.

Pure functions, no database: the wizard's preview, `rapportctl import --dry-run` and
the import itself judge a row the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from models.enums import Channel, Direction, ImportKind, OrderStatus
from models.limits import (
    ADDRESS_LINE_LENGTH,
    CITY_LENGTH,
    COUNTRY_LENGTH,
    EMAIL_LENGTH,
    LANGUAGE_LENGTH,
    NAME_LENGTH,
    PHONE_RAW_LENGTH,
    POSTAL_CODE_LENGTH,
    SUMMARY_LENGTH,
)
from models.names import fold

EXTERNAL_REF_LENGTH = 64  # source_records.external_ref, customers.external_ref
ORDER_NUMBER_LENGTH = 24  # orders.number: an imported order keeps its legacy number


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()


_COMMON_REF = ("id", "legacy id", "ref", "reference", "external ref", "external_ref")
_REF = Field(
    "external_ref",
    "Legacy id",
    True,
    EXTERNAL_REF_LENGTH,
    (*_COMMON_REF, "customer id", "customer_id", "client id", "client_id", "account"),
)
_EVENT_REF = Field(
    "external_ref",
    "Legacy id",
    True,
    EXTERNAL_REF_LENGTH,
    (*_COMMON_REF, "message id", "interaction id", "contact id", "event id", "ticket id"),
)
_CUSTOMER_REF = Field(
    "customer_ref",
    "Customer's legacy id",
    True,
    EXTERNAL_REF_LENGTH,
    ("customer", "customer id", "customer_id", "client id", "client_id", "customer ref", "account"),
)
FIELDS: dict[ImportKind, tuple[Field, ...]] = {
    ImportKind.CUSTOMERS: (
        _REF,
        Field(
            "first_name",
            "First name",
            True,
            NAME_LENGTH,
            ("first", "firstname", "first name", "given name", "forename"),
        ),
        Field(
            "last_name",
            "Last name",
            True,
            NAME_LENGTH,
            ("last", "lastname", "last name", "surname", "family name"),
        ),
        Field(
            "phone",
            "Phone",
            False,
            PHONE_RAW_LENGTH,
            ("telephone", "tel", "phone number", "mobile", "phone_number"),
        ),
        Field(
            "email",
            "E-mail",
            False,
            EMAIL_LENGTH,
            ("e-mail", "mail", "email address", "e-mail address"),
        ),
        Field(
            "address",
            "Street address",
            False,
            ADDRESS_LINE_LENGTH,
            ("street", "address1", "address line 1", "line1", "address_line1"),
        ),
        Field("city", "City", False, CITY_LENGTH, ("town",)),
        Field(
            "postal_code",
            "Postcode",
            False,
            POSTAL_CODE_LENGTH,
            ("postcode", "zip", "zip code", "zipcode", "postal code", "post code"),
        ),
        Field(
            "country",
            "Country (2 letters)",
            False,
            COUNTRY_LENGTH,
            ("country code", "country_code"),
        ),
        Field(
            "customer_since",
            "Customer since",
            False,
            None,
            ("since", "created", "created at", "created_at", "joined", "customer since"),
        ),
        Field(
            "language",
            "Language",
            False,
            LANGUAGE_LENGTH,
            ("preferred language", "preferred_language", "lang"),
        ),
    ),
    ImportKind.ORDERS: (
        Field(
            "external_ref",
            "Order number",
            True,
            ORDER_NUMBER_LENGTH,
            (*_COMMON_REF, "order id", "order_id", "order number", "order no", "order"),
        ),
        _CUSTOMER_REF,
        Field(
            "placed_at",
            "Placed on",
            True,
            None,
            ("date", "order date", "placed", "placed at", "ordered", "created"),
        ),
        Field("total", "Total", True, None, ("amount", "total amount", "value", "price")),
        Field("currency", "Currency", True, None, ("currency code", "ccy")),
        Field("status", "Status", False, None, ("order status", "state")),
        Field("channel", "Channel", False, None, ("source", "via")),
    ),
    ImportKind.INTERACTIONS: (
        _EVENT_REF,
        _CUSTOMER_REF,
        Field("channel", "Channel", True, None, ("type", "medium", "via", "kind")),
        Field(
            "started_at",
            "When",
            True,
            None,
            ("date", "time", "timestamp", "started", "sent", "received", "created"),
        ),
        Field("direction", "Direction", False, None, ("in/out", "inbound/outbound")),
        Field(
            "summary",
            "Summary",
            False,
            SUMMARY_LENGTH,
            ("subject", "text", "message", "body", "note", "notes", "content"),
        ),
    ),
}

CHANNEL_WORDS: dict[str, Channel] = {
    **{c.value: c for c in Channel},
    "e-mail": Channel.EMAIL,
    "mail message": Channel.EMAIL,
    "call": Channel.PHONE,
    "telephone": Channel.PHONE,
    "visit": Channel.STORE,
    "store visit": Channel.STORE,
    "shop": Channel.STORE,
    "in store": Channel.STORE,
    "live chat": Channel.CHAT,
    "whatsapp": Channel.CHAT,
    "text": Channel.SMS,
    "facebook": Channel.SOCIAL,
    "twitter": Channel.SOCIAL,
    "x": Channel.SOCIAL,
    "instagram": Channel.SOCIAL,
    "social post": Channel.SOCIAL,
    "post": Channel.MAIL,
    "letter": Channel.MAIL,
    "online": Channel.WEB,
    "website": Channel.WEB,
}
# ISO 4217 active codes (2024); a legacy "EURO" or "$" is refused with the reason.
CURRENCIES = frozenset(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD "
    "BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK "
    "JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK "
    "PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST "
    "XAF XCD XOF XPF YER ZAR ZMW ZWL".split()
)
_DATE_FORMATS_DMY = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y")
_DATE_FORMATS_MDY = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
_OTHER_FORMATS = ("%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y")
# Text a spreadsheet would evaluate; a phone "+44 20 ..." or a "-12.50" is a value.
_NUMBER_LIKE = re.compile(r"^[+\-]?[\d\s().,/\-]*$")


def default_mapping(kind: ImportKind, headers: list[str]) -> dict[str, str]:
    """Match columns to fields by name or common alias, case and spacing ignored."""

    def key(text: str) -> str:
        return " ".join(text.lower().replace("_", " ").replace("-", " ").split())

    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for wanted in FIELDS[kind]:
        names = {key(wanted.name), key(wanted.label), *(key(a) for a in wanted.aliases)}
        for header in headers:
            if header not in mapping and key(header) in names and wanted.name not in taken:
                mapping[header] = wanted.name
                taken.add(wanted.name)
    return mapping


def check_mapping(kind: ImportKind, mapping: Mapping[str, str], headers: list[str]) -> None:
    """A mapping that cannot work (a required field unmapped, a column not in the file)
    is refused before the first row; ValueError with the reason."""
    names = {f.name for f in FIELDS[kind]}
    for column, name in mapping.items():
        if column not in headers:
            raise ValueError(f"the mapping names a column {column!r} that the file does not have")
        if name not in names:
            raise ValueError(f"{name!r} is no field of {kind.value}: use one of {sorted(names)}")
    mapped = set(mapping.values())
    missing = [f.label for f in FIELDS[kind] if f.required and f.name not in mapped]
    if missing:
        raise ValueError(f"no column is mapped to {', '.join(missing)}")


def is_formula(value: str) -> bool:
    """Spreadsheet formula text (=SUM(...), @cmd, +cmd|...); numbers and phones are not."""
    text = value.lstrip(" ")
    if not text or text[0] not in "=+-@":
        return False
    return text[0] in "=@" or not _NUMBER_LIKE.match(text)


def unquote(value: str) -> str:
    """A value written by Rapport's rejected-rows file ('=... neutralised) as typed."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


@dataclass
class Judged:
    """A row's clean values (`values`, the field's Python value) or its reasons."""

    line: int
    values: dict[str, object] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def row_hash(self) -> str:
        """What `SourceRecord.row_hash` compares: the clean values, canonical."""
        text = json.dumps(self.values, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class RowJudge:
    """Checks rows of one kind under one mapping and one default region."""

    def __init__(
        self, kind: ImportKind, mapping: Mapping[str, str], region: str, today: dt.date
    ) -> None:
        self.kind = kind
        self.mapping = dict(mapping)
        self.region = region.upper()
        self.today = today
        self.fields = {f.name: f for f in FIELDS[kind]}
        us_style = self.region in ("US", "CA", "PH")
        first, then = (
            (_DATE_FORMATS_MDY, _DATE_FORMATS_DMY)
            if us_style
            else (_DATE_FORMATS_DMY, _DATE_FORMATS_MDY)
        )
        # The region's order first; 27/02/2013 can only be the other.
        self._day_formats = first + then + _OTHER_FORMATS

    def judge(self, line: int, cells: Mapping[str, str]) -> Judged:
        judged = Judged(line)
        if "(short row)" in cells:
            judged.reasons.append(f"the row has {cells['(short row)']}")
        if "(extra cells)" in cells:
            judged.reasons.append("the row has more cells than the header")
        raw: dict[str, str] = {}
        for column, name in self.mapping.items():
            value = unquote(cells.get(column, "")).strip()
            if is_formula(value):
                judged.reasons.append(
                    f"{column}: a spreadsheet formula ({value[:30]!r}); import values, not formulas"
                )
                continue
            raw[name] = value
        for name, spec in self.fields.items():
            value = raw.get(name, "")
            if not value:
                if spec.required and name in self.mapping.values():
                    judged.reasons.append(f"{spec.label} is required")
                continue
            if spec.max_length is not None and len(value) > spec.max_length:
                judged.reasons.append(
                    f"{spec.label} is {len(value)} characters, at most {spec.max_length}"
                )
                continue
            try:
                judged.values[name] = self._clean(name, value, raw)
            except ValueError as exc:
                judged.reasons.append(f"{spec.label}: {exc}")
        if self.kind is ImportKind.CUSTOMERS and judged.ok:
            self._customer_rules(judged)
        return judged

    def _clean(self, name: str, value: str, raw: Mapping[str, str]) -> object:
        if name == "phone":
            return self._phone(value, raw.get("country") or self.region)
        if name == "email":
            try:
                checked = validate_email(value, check_deliverability=False)
            except EmailNotValidError as exc:
                raise ValueError(f"{value!r} is not an e-mail address ({exc})") from None
            return str(checked.normalized)
        if name in ("customer_since",):
            return self.date(value).isoformat()
        if name in ("placed_at", "started_at"):
            return self.instant(value).isoformat()
        if name == "currency":
            code = value.upper()
            if code not in CURRENCIES:
                raise ValueError(f"{value!r} is not an ISO 4217 currency code (USD, EUR, GBP...)")
            return code
        if name == "total":
            return self.cents(value)
        if name == "country":
            code = value.upper()
            if not (len(code) == 2 and code.isalpha()):
                raise ValueError(f"{value!r} is not a 2-letter country code (US, GB, FR...)")
            return code
        if name == "channel":
            channel = CHANNEL_WORDS.get(value.lower())
            if channel is None:
                raise ValueError(f"{value!r} is no channel ({', '.join(c.value for c in Channel)})")
            return channel.value
        if name == "direction":
            word = value.lower()
            if word in ("in", "inbound", "incoming", "received"):
                return Direction.INBOUND.value
            if word in ("out", "outbound", "outgoing", "sent"):
                return Direction.OUTBOUND.value
            raise ValueError(f"{value!r} is neither inbound nor outbound")
        if name == "status":
            try:
                return OrderStatus(value.lower()).value
            except ValueError:
                raise ValueError(
                    f"{value!r} is no order status ({', '.join(s.value for s in OrderStatus)})"
                ) from None
        if name == "language":
            return value.lower()
        return value

    def _phone(self, value: str, region: str) -> str:
        try:
            parsed = phonenumbers.parse(value, region.upper())
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise ValueError(f"{value!r} is not a valid phone number (region {region.upper()})")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def date(self, value: str) -> dt.date:
        text = value.strip()
        try:
            return (
                dt.date.fromisoformat(text[:10])
                if len(text) >= 10 and text[4] == "-"
                else (_first_format(text, self._day_formats).date())
            )
        except ValueError:
            raise ValueError(f"{value!r} is not a date (2019-03-31 or 31/03/2019)") from None

    def instant(self, value: str) -> dt.datetime:
        """A date and time; naive times are taken as UTC (legacy systems rarely say)."""
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            day_part, _, time_part = text.partition(" ")
            try:
                day, clock = self.date(text), dt.time()
            except ValueError:
                try:
                    day = self.date(day_part)
                    clock = dt.time.fromisoformat(time_part) if time_part else dt.time()
                except ValueError:
                    raise ValueError(
                        f"{value!r} is not a date and time (2019-03-31 14:05)"
                    ) from None
            parsed = dt.datetime.combine(day, clock)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)

    def cents(self, value: str) -> int:
        text = value.replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text and len(text.rpartition(",")[2]) == 2:
            text = text.replace(",", ".")  # 12,50: a decimal comma
        text = text.replace(",", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount (1234.50)") from None
        if amount < 0 or amount > Decimal(10) ** 9:
            raise ValueError(f"{value!r} is out of range")
        return int((amount * 100).to_integral_value())

    def _customer_rules(self, judged: Judged) -> None:
        values = judged.values
        if values.get("address") and not values.get("city"):
            judged.reasons.append("City is required with a street address")
        values.setdefault("country", self.region)
        values.setdefault("language", "en")
        since = values.get("customer_since")
        if since is not None and dt.date.fromisoformat(str(since)) > self.today:
            judged.reasons.append(f"Customer since {since} is in the future")
        values["search_name"] = fold(
            f"{values.get('first_name', '')} {values.get('last_name', '')}"
        )


def _first_format(text: str, formats: tuple[str, ...]) -> dt.datetime:
    for pattern in formats:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(text)

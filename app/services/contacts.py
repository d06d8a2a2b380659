"""Editing a customer's name and contact details, never overwriting silently.

The edit carries the `version` the agent loaded. If someone saved the customer
since, the save is refused with a `ContactConflict` holding what is saved now,
so the UI can show both versions and let the agent decide. Who saves is the
injected `AgentContext` (app/agent.py): its login is the audit actor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import phones
from app.agent import AgentContext
from app.clock import Clock, local_today, system_clock
from app.errors import ConflictError, UserError
from app.validation import Checks, check_language
from models import limits
from models.authority import AuditEntry
from models.database import Database
from models.enums import CustomerStatus, PhoneKind
from models.names import fold
from models.people import ContactPreference, Customer, CustomerEmail, CustomerPhone


@dataclass(frozen=True)
class PhoneEdit:
    raw: str
    kind: str | None = None  # None: what the number is (landline -> home, mobile -> mobile)
    is_primary: bool = False


@dataclass(frozen=True)
class ContactDetails:
    """The editable part of a customer, as loaded or as typed."""

    first_name: str
    last_name: str
    preferred_language: str
    phones: tuple[PhoneEdit, ...] = ()
    emails: tuple[str, ...] = ()
    do_not_call: bool = False
    do_not_email: bool = False
    do_not_sms: bool = False
    do_not_mail: bool = False
    # Quick-made for an unknown caller during a pop: held as staged (kept out of the
    # marketing lists and the duplicate scan) until the agent identifies the caller
    # (merged into the customer on file) or keeps them as a new customer.
    staged: bool = False


@dataclass(frozen=True)
class SavedContact:
    customer_id: int
    version: int
    details: ContactDetails
    updated_at: dt.datetime


class ContactConflict(ConflictError):
    def __init__(self, current: SavedContact, mine: ContactDetails) -> None:
        super().__init__("someone else changed this customer while you were editing")
        self.current = current
        self.mine = mine


@dataclass
class _Validated:
    first_name: str
    last_name: str
    language: str
    phones: list[tuple[PhoneEdit, str, str]] = field(default_factory=list)  # edit, raw, E.164
    emails: list[str] = field(default_factory=list)


class ContactService:
    def __init__(
        self,
        db: Database,
        default_region: str,
        clock: Clock = system_clock,
        *,
        agent: AgentContext,
    ) -> None:
        self.clock = clock
        self._db = db
        self.default_region = default_region
        self.agent = agent

    def load(self, customer_id: int) -> SavedContact:
        with self._db.read() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise UserError(f"customer {customer_id} does not exist")
            return _saved(customer, session)

    def validate(self, details: ContactDetails) -> _Validated:
        """Every problem at once, one per line naming its field (app/validation.py)."""
        checks = Checks()
        checked = _Validated(
            first_name=checks.text(details.first_name, "first name", limits.NAME_LENGTH),
            last_name=checks.text(details.last_name, "last name", limits.NAME_LENGTH),
            language=check_language(details.preferred_language, checks),
        )
        if not checks.problems and not (checked.first_name or checked.last_name):
            checks.add("name", "is required (a first or a last name)")
        folded = fold(f"{checked.first_name} {checked.last_name}")
        if len(folded) > limits.SEARCH_NAME_LENGTH:
            # Some characters grow when folded for search (U+FDFA becomes 18).
            checks.add(
                "name",
                f"is too long ({len(folded)} characters once normalized for search, "
                f"at most {limits.SEARCH_NAME_LENGTH})",
            )
        for phone in details.phones:
            raw = checks.text(phone.raw, "phone", limits.PHONE_RAW_LENGTH)
            if not raw:
                continue
            try:
                checked.phones.append((phone, raw, phones.to_e164(raw, self.default_region)))
            except ValueError as exc:
                checks.add("phone", str(exc))
            if phone.kind is not None and phone.kind not in {k.value for k in PhoneKind}:
                checks.add("phone", f"unknown kind {phone.kind!r}")
        for address in details.emails:
            typed = checks.text(address, "e-mail", limits.EMAIL_LENGTH)
            if not typed:
                continue
            try:
                result = validate_email(typed, check_deliverability=False)
                checked.emails.append(result.normalized)
            except EmailNotValidError as exc:
                checks.add("e-mail", f"{typed} is not valid: {exc}")
        e164s = [e for _p, _raw, e in checked.phones]
        if len(set(e164s)) != len(e164s):
            checks.add("phone", "the same number is listed twice")
        checks.raise_if_any()
        return checked

    def create(self, details: ContactDetails) -> SavedContact:
        """A new customer from the quick-create form; validated like an edit."""
        checked = self.validate(details)
        with self._db.write() as session:
            customer = Customer(
                first_name=checked.first_name,
                last_name=checked.last_name,
                search_name=fold(f"{checked.first_name} {checked.last_name}"),
                preferred_language=checked.language,
                customer_since=local_today(self.clock),
                status=CustomerStatus.STAGED if details.staged else CustomerStatus.ACTIVE,
            )
            session.add(customer)
            session.flush()
            with session.no_autoflush:
                _apply(session, customer, details, checked)
            session.flush()
            session.add(
                AuditEntry(
                    actor=self.agent.actor,
                    action="customer.create",
                    entity="customer",
                    entity_id=customer.id,
                    detail=None,
                )
            )
            session.flush()
            return _saved(customer, session)

    def keep_staged(self, customer_id: int) -> None:
        """A staged caller is a new customer after all: the record becomes active."""
        with self._db.write() as session:
            customer = session.get(Customer, customer_id)
            if customer is None or customer.status != CustomerStatus.STAGED:
                raise UserError("this caller's record is no longer held: nothing to keep")
            customer.status = CustomerStatus.ACTIVE
            session.add(
                AuditEntry(
                    actor=self.agent.actor,
                    action="customer.keep_staged",
                    entity="customer",
                    entity_id=customer_id,
                    detail=None,
                )
            )

    def save(
        self,
        customer_id: int,
        loaded_version: int,
        details: ContactDetails,
    ) -> SavedContact:
        """Save if nobody saved since `loaded_version`; else raise ContactConflict."""
        checked = self.validate(details)
        try:
            with self._db.write() as session:
                customer = session.get(Customer, customer_id)
                if customer is None:
                    raise UserError(f"customer {customer_id} does not exist")
                if customer.version != loaded_version:
                    raise ContactConflict(_saved(customer, session), details)
                # Touching the row makes its one UPDATE carry `WHERE version = loaded`,
                # which also catches a save that lands between our read and write.
                customer.updated_at = self.clock()
                with session.no_autoflush:
                    _apply(session, customer, details, checked)
                session.flush()
                session.add(
                    AuditEntry(
                        actor=self.agent.actor,
                        action="customer.contact.update",
                        entity="customer",
                        entity_id=customer_id,
                        detail={"version": customer.version},
                    )
                )
                session.flush()
                return _saved(customer, session)
        except StaleDataError:
            raise ContactConflict(self.load(customer_id), details) from None


def _apply(
    session: Session, customer: Customer, details: ContactDetails, checked: _Validated
) -> None:
    customer.first_name = checked.first_name
    customer.last_name = checked.last_name
    customer.search_name = fold(f"{customer.first_name} {customer.last_name}")
    customer.preferred_language = checked.language
    customer.do_not_call = details.do_not_call
    customer.do_not_email = details.do_not_email
    customer.do_not_sms = details.do_not_sms
    customer.do_not_mail = details.do_not_mail

    existing_phones: dict[str | None, CustomerPhone] = {
        p.e164: p
        for p in session.scalars(
            select(CustomerPhone).where(CustomerPhone.customer_id == customer.id)
        )
    }
    keep = set()
    for edit, raw, e164 in checked.phones:
        phone = existing_phones.get(e164)
        if phone is None:
            phone = CustomerPhone(
                customer_id=customer.id, e164=e164, digits_tail=phones.tail_of(e164)
            )
            session.add(phone)
        phone.raw = raw
        phone.kind = PhoneKind(phones.kind_for(e164, chosen=edit.kind))
        phone.is_primary = edit.is_primary
        keep.add(e164)
    for old_e164, old_phone in existing_phones.items():
        if old_e164 not in keep:
            # A preference pointing at a removed number loses its target, not its rule.
            for pref in session.scalars(
                select(ContactPreference).where(ContactPreference.phone_id == old_phone.id)
            ):
                pref.phone_id = None
            session.flush()
            session.delete(old_phone)

    existing_emails = {
        e.address_normalized: e
        for e in session.scalars(
            select(CustomerEmail).where(CustomerEmail.customer_id == customer.id)
        )
    }
    wanted = {address.lower(): address for address in checked.emails}
    for normalized, address in wanted.items():
        if normalized not in existing_emails:
            session.add(
                CustomerEmail(
                    customer_id=customer.id,
                    address=address,
                    address_normalized=normalized,
                    is_primary=not existing_emails and address == checked.emails[0],
                )
            )
    removed = [e.id for n, e in existing_emails.items() if n not in wanted]
    if removed:
        for pref in session.scalars(
            select(ContactPreference).where(ContactPreference.email_id.in_(removed))
        ):
            pref.email_id = None
        session.flush()
        session.execute(delete(CustomerEmail).where(CustomerEmail.id.in_(removed)))


def _saved(customer: Customer, session: Session) -> SavedContact:
    phone_rows = session.scalars(
        select(CustomerPhone)
        .where(CustomerPhone.customer_id == customer.id)
        .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id)
    ).all()
    email_rows = session.scalars(
        select(CustomerEmail.address)
        .where(CustomerEmail.customer_id == customer.id)
        .order_by(CustomerEmail.is_primary.desc(), CustomerEmail.id)
    ).all()
    return SavedContact(
        customer_id=customer.id,
        version=customer.version,
        updated_at=customer.updated_at,
        details=ContactDetails(
            first_name=customer.first_name,
            last_name=customer.last_name,
            preferred_language=customer.preferred_language,
            phones=tuple(PhoneEdit(p.raw, p.kind.value, p.is_primary) for p in phone_rows),
            emails=tuple(email_rows),
            do_not_call=customer.do_not_call,
            do_not_email=customer.do_not_email,
            do_not_sms=customer.do_not_sms,
            do_not_mail=customer.do_not_mail,
        ),
    )

"""Operations on a customer: contact details, notes."""

from __future__ import annotations

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.contacts import ContactDetails, SavedContact
from app.services.views import NoteRow


def create_customer(services: Services, details: ContactDetails) -> Done[SavedContact]:
    saved = services.contacts.create(details)
    return Done(saved, _customer(saved.customer_id))


def keep_staged(services: Services, customer_id: int) -> Done[None]:
    """An unknown caller's staged record kept as a new customer."""
    services.contacts.keep_staged(customer_id)
    return Done(None, _customer(customer_id))


def save_contact(
    services: Services, customer_id: int, loaded_version: int, details: ContactDetails
) -> Done[SavedContact]:
    saved = services.contacts.save(customer_id, loaded_version, details)
    return Done(saved, _customer(customer_id))


def add_note(
    services: Services, customer_id: int, body: str, client_key: str | None
) -> Done[NoteRow]:
    note = services.notes.add_note(customer_id, body, client_key=client_key)
    return Done(note, Changes.of(Change(Entity.NOTE, note.id, customer_id)))


def _customer(customer_id: int) -> Changes:
    return Changes.of(Change(Entity.CUSTOMER, customer_id, customer_id))

"""The macros every team starts with: canned replies and an internal note template.

Placeholders are those of app/macros.py (`PLACEHOLDERS`); tests/test_macros.py renders
every seeded macro, so a typo here fails the tests rather than an agent's reply.
"""

from __future__ import annotations

from models.seed.context import SeedContext

# (name, kind, department code or None for shared, body)
SEED_MACROS: list[tuple[str, str, str | None, str]] = [
    (
        "Apology + reference",
        "reply",
        None,
        "Dear {{ customer.first_name }},\n\n"
        "I am sorry for the trouble you have had. I have opened case {{ case.reference }} "
        "about it; please quote this reference whenever you contact us, so whoever answers "
        "sees the whole story.\n\n"
        "Kind regards,\n{{ agent.name }}",
    ),
    (
        "Technician visit booked",
        "reply",
        "call_centre",
        "Dear {{ customer.first_name }},\n\n"
        "Our technician will visit you {{ promise.due }}. If that no longer suits you, "
        "call us and quote {{ case.reference }}.\n\n"
        "Kind regards,\n{{ agent.name }}",
    ),
    (
        "Delivery promise",
        "reply",
        "call_centre",
        "Dear {{ customer.first_name }},\n\n"
        "{% if promise.due %}Your delivery will arrive {{ promise.due }}."
        "{% else %}We will confirm your delivery date shortly.{% endif %} "
        "Your reference is {{ case.reference }}.\n\n"
        "Kind regards,\n{{ agent.name }}",
    ),
    (
        "Dispatch update",
        "reply",
        "warehouse",
        "Dear {{ customer.first_name }},\n\n"
        "Your item for {{ case.reference }} ({{ case.subject }}) has left our warehouse."
        "\n\nKind regards,\n{{ agent.name }}",
    ),
    (
        "Hand-off checklist",
        "note",
        None,
        "Hand-off for {{ case.reference }}: {{ case.subject }}\n"
        "- What the customer wants:\n"
        "- What was promised and when: {{ promise.due|default('nothing yet') }}\n"
        "- What has been tried:\n"
        "- Best way and time to reach {{ customer.name }}:\n"
        "Handed off by {{ agent.name }}",
    ),
]


def write_macros(ctx: SeedContext) -> None:
    for name, kind, department, body in SEED_MACROS:
        ctx.writer.add(
            "macros",
            name=name,
            kind=kind,
            department_id=ctx.departments[department] if department else None,
            body=body,
            active=True,
            created_by_id=None,
            created_at=ctx.now,
            version=1,
        )

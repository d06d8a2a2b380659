"""customer name words: the distinct words of every customer's search_name

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A name typed with a typo ("Kowalsky") is first matched against this small table
(a few thousand rows even at 1,000,000 customers) to find the real words it may
mean ("kowalski"); the customers holding those words are then fetched by the
FTS5 substring index on SQLite, and on PostgreSQL a GIN index on the name's word
array (LIKE over many alternative words is slow on the trigram index). A trigger
on each database adds the words of every inserted or renamed customer. Words are
never removed: a word nobody has any more only costs a lookup that finds nothing.

SQLite has no string split and allows no WITH in a trigger, so its trigger
splits the JSON-quoted name (`json_quote` escapes quotes, backslashes and
control characters; none of its escapes contains a space) into a JSON array
and reads it with `json_each`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SQLITE_WORDS = (
    "INSERT OR IGNORE INTO customer_name_words(word) "
    "SELECT value FROM json_each('[' || replace(json_quote(new.search_name), ' ', '\",\"') || ']') "
    "WHERE value <> ''; "
)


def upgrade() -> None:
    op.create_table(
        "customer_name_words",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("word", sa.String(length=170), nullable=False),
        sa.UniqueConstraint("word", name="uq_customer_name_words_word"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION customer_name_words_add() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN INSERT INTO customer_name_words(word) "
            "SELECT DISTINCT w FROM unnest(string_to_array(NEW.search_name, ' ')) AS w "
            "WHERE w <> '' ON CONFLICT (word) DO NOTHING; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER customers_name_words AFTER INSERT OR UPDATE OF search_name "
            "ON customers FOR EACH ROW EXECUTE FUNCTION customer_name_words_add()"
        )
        op.execute(
            "INSERT INTO customer_name_words(word) SELECT DISTINCT w FROM customers, "
            "unnest(string_to_array(search_name, ' ')) AS w WHERE w <> '' ORDER BY w"
        )
        # Customers by whole words of their name (`&&` on the word array).
        op.execute(
            "CREATE INDEX ix_customers_name_words ON customers "
            "USING gin (string_to_array(search_name, ' '))"
        )
    else:
        op.execute(
            "CREATE TRIGGER customers_name_words_insert AFTER INSERT ON customers BEGIN "
            + _SQLITE_WORDS
            + "END"
        )
        op.execute(
            "CREATE TRIGGER customers_name_words_update AFTER UPDATE OF search_name ON customers "
            "BEGIN " + _SQLITE_WORDS + "END"
        )
        op.execute(
            "INSERT OR IGNORE INTO customer_name_words(word) SELECT DISTINCT j.value "
            "FROM customers AS new, "
            "json_each('[' || replace(json_quote(new.search_name), ' ', '\",\"') || ']') AS j "
            "WHERE j.value <> '' ORDER BY j.value"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customers_name_words")
        op.execute("DROP TRIGGER IF EXISTS customers_name_words ON customers")
        op.execute("DROP FUNCTION IF EXISTS customer_name_words_add()")
    else:
        op.execute("DROP TRIGGER IF EXISTS customers_name_words_insert")
        op.execute("DROP TRIGGER IF EXISTS customers_name_words_update")
    op.drop_table("customer_name_words")

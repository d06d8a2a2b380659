"""Field lengths shared by the columns and by the checks that run before the database.

No imports: the telephony parsers read these on the start-up path, before SQLAlchemy.
"""

CALL_ID_LENGTH = 128  # interactions.call_id; the call event parser refuses longer ids
CALL_SOURCE_LENGTH = 24  # interactions.call_source
PHONE_RAW_LENGTH = 40  # customer_phones.raw, interactions.phone_number
LINE_LENGTH = 80  # interactions.line
WORKSTATION_LENGTH = 80  # interactions.workstation (login@host)
NAME_LENGTH = 80  # customers.first_name / last_name
SEARCH_NAME_LENGTH = 170  # customers.search_name: the folded "first last"
LANGUAGE_LENGTH = 8  # customers.preferred_language
EMAIL_LENGTH = 254  # customer_emails.address (RFC 5321 path limit)
ADDRESS_LINE_LENGTH = 120
CITY_LENGTH = 80
REGION_LENGTH = 80
POSTAL_CODE_LENGTH = 16
COUNTRY_LENGTH = 2  # ISO 3166-1 alpha-2
NOTE_LENGTH = 4000  # customer notes (Text, limited by app/validation.py)
SUMMARY_LENGTH = 2000  # a wrap-up summary (Text, limited by app/validation.py)
FOLLOW_UP_LENGTH = 200  # tasks.title
WRAP_UP_CODE_LENGTH = 40  # interactions.wrap_up_code
CLIENT_KEY_LENGTH = 64  # customer_notes.client_key, interactions.wrap_up_key (a UUID is 36)
PHONE_EXTENSION_LENGTH = 16  # interactions.phone_extension (digits of a caller's extension)

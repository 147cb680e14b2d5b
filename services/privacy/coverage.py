"""Tables deliberately left out of a person's export, each with the reason (pure data).

The guard test (tests/services/privacy/test_coverage.py) walks every table of
``storage.models``' metadata: a table that can hold something about a person (a foreign key to
``person``, directly or through other tables, or a free-text / JSON column) must be exported
(`services.privacy.collect.EXPORTED_TABLES`) or listed here with a reason. A new table with
personal data thus fails the build until the export (and the erasure and retention, see
docs/operations.md "Retention") has been thought through.
"""

from __future__ import annotations

#: Table name -> why it is not in a person's export.
NOT_EXPORTED: dict[str, str] = {
    # The school's own "about us" text per language; ``updated_by_id`` only says which staff
    # member last edited it (the person row stays as a pseudonymised anchor after an erasure).
    "school_about_text": "school text, not personal",
    # Hashes of usernames and client addresses for the login throttle, swept after minutes:
    # not attributable to a person (an unknown username has no person).
    "login_failure": "hashed, not attributable, short-lived",
    # A time kept for a person for five minutes while they read the booking summary
    # (`services.appointments.holds`): no content, gone once they book or the minutes are
    # over (the housekeeping deletes it; a deleted person's go with them).
    "slot_hold": "minutes-long booking hold, no content",
    # Per-chat send pacing of the outbox (a chat key and the next allowed moment).
    "outbox_rate": "not personal (delivery pacing)",
    # A school's appointment kinds: its JSON columns hold role codes (who books, who attends).
    "appointment_type": "school setting, role codes only",
    # Telegram update ids already handled (idempotency), pruned after 14 days.
    "processed_update": "not personal (update ids only)",
    # Anonymous exit-questionnaire responses are in this same table as the personal ones:
    # ``survey_response`` is exported, but only the responses linked to the person's own
    # invitations; an anonymous response has no invitation (``invitation_id`` NULL by a check
    # constraint) and is never attributed to anyone, so it is in no person's export.
}

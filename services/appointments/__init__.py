"""Appointments: who may book what, free times, booking and moving, cancelling, the mentor's
confirmation and attendance, time-out requests, notices and calendar files.

Services take a session already inside a transaction and never begin or commit; entry points
run them through `services.kernel.uow.run_unit_of_work`. Pure decisions live in `rules`.
All datetimes are timezone-aware UTC; ``date`` values are school-local days.

The rules the product enforces (domain.md, "pitfalls"):

- who may book what (`access`): a type's ``bookable_by`` roles, and the person's link to the
  student (the student themself, a parent through `Guardianship`, a care coordinator of the
  school);
- an intake only once the care coordinator accepted the referral (trajectory ``planned``), and
  only when the student has a mentor; it stays ``booked`` until a mentor confirms being there;
- a begeleidingsgesprek, time-out or evaluation only with an ``active`` trajectory (after the
  intake); a time-out outside the plan (not in the plan, or outside its dates) or above the
  trajectory's cap per ISO week goes to the care coordinator's queue instead of being booked
  (`timeout_requests`);
- no booking in the past, closer than the lead time, beyond the horizon, on a closed day, or
  at a time that is not one of the offered start times (opening hours, coach availability);
- capacity: places are taken with conditional UPDATEs on `AppointmentSlot` rows (`capacity`),
  never by counting first; a full time answers `SlotTaken` with the nearest free alternatives;
- a cancellation close to the start is allowed and flagged (``late_cancel``).

Bookings of one student are serialised by a row lock on their trajectory (PostgreSQL; SQLite
has one writer at a time), so the week's cap and the "one appointment at a time" check cannot
be raced. Every booking, move, cancellation, confirmation and attendance is audited (ids and
codes only); notifications go through the outbox in the same transaction.
"""

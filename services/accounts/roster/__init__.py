"""People from the school's administration system (issue 12).

Two readers, one model: ``project_csv`` (the project's own CSV) and ``oneroster`` (a
OneRoster 1.1/1.2 CSV bundle) both turn files into a `model.Roster`, the neutral list of
people, roles, groups, languages, e-mail addresses and mentor/parent links, with every bad
row by file and line. ``decoding`` reads the bytes (encoding and delimiter), ``plan``
compares a roster with the school (pure: what would be added, changed and ended),
``apply`` writes a plan in batches, each its own unit of work, and ``sync`` runs one import
(read, plan, refuse or write) for `trajectbot import`.
"""

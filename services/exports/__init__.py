"""Exports for the school's own systems (the seeds' Magister, leerlingvolgsysteem and student
file): the attendance of support moments per week, the weekly summary per student, and the
closing report. Pure rules in `rules`, the reads in `facts`, access and audit in `views`, the
PDF in `closing_report_pdf`."""

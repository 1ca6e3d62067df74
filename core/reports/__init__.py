"""Complaint handling figures for the annual report and the governing body (CHC-8.1, CHC-9.x).

:mod:`core.reports.figures` computes every figure, with its definition, from plain records read
by :class:`~core.db.repositories.ReportRepository`; rendering is the front end's job.
"""

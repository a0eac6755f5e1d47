"""Compliance metrics (A36.1): the records used to assess enforcement, per department or per
officer for a period, from ledger-covered rows only (deadlines, records, evidence, refusals,
cases, dossier archivals). :mod:`core.metrics.compliance` computes; fronts chart or export."""

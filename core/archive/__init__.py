"""The record's afterlife (A32–A36): the act's end and the 20-day archiving clock, dossier
builds as jobs, the custodian's acceptance, custody and the use register, retention with its
database guard, access requests under the disclosure rules, and disclosure copies.

Built on :mod:`core.dossier` (the case file's pages, bag and verifier); fronts call the
services here and never the dossier builder directly.
"""

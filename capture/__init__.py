"""Evidence intake: type sniffing, capture metadata and evidence checks.

Pure functions over files on disk. Nothing here imports Flask, the database or
``core``: the service layer calls these and stores what they return. Import the
submodules (``capture.sniff``, ``capture.metadata``, ``capture.checks``,
``capture.datum``) directly; this package module stays empty so that the
extraction worker process imports only the parsers it needs.
"""

"""Evidence intake: type sniffing, capture metadata, thumbnails and evidence checks.

Pure functions over files on disk. Nothing here imports Flask, the database or
``core``: the service layer calls these and stores what they return. Import the
submodules (``capture.sniff``, ``capture.metadata``, ``capture.preview``, ``capture.checks``,
``capture.datum``) directly; this package module stays empty so that the parser workers
(``capture.pool`` starts them in the sandbox of ``capture.isolation``) import only what they
need.
"""

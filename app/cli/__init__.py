"""The ``kexue`` command line: a thin layer over ``app`` and ``ingest``."""

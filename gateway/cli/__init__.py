"""The ``ediary`` command line."""

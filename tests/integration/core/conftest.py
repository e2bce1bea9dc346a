"""The migration tests' databases of their own (tests/support/migrations.py)."""

from tests.support.migrations import fresh, fresh_url

__all__ = ["fresh", "fresh_url"]

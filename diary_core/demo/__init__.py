"""Deterministic demo data: the demo school with a realistic year, and districts for
benchmarks (see :mod:`diary_core.demo.generator`; what a demo school holds:
:mod:`diary_core.demo.summary`)."""

from diary_core.demo.accounts import DEMO_LOGINS, DEMO_PASSWORD, DemoAccount
from diary_core.demo.generator import (
    DEFAULT_SEED,
    DistrictSummary,
    ensure_demo_school,
    generate_demo_school,
    generate_district,
    rebuild_summary,
)
from diary_core.demo.summary import DEMO_SCHOOL_NAME, DemoCounts, DemoSummary

__all__ = [
    "DEFAULT_SEED",
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_SCHOOL_NAME",
    "DemoAccount",
    "DemoCounts",
    "DemoSummary",
    "DistrictSummary",
    "ensure_demo_school",
    "generate_demo_school",
    "generate_district",
    "rebuild_summary",
]

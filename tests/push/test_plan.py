"""The plan's arithmetic against MoEngage's documented budgets (``moengage_pipelines.limits``)."""

from __future__ import annotations

import math

import pytest

from moengage_pipelines import limits
from moengage_pipelines.api.ratebudget.windows import TRANSITION_USERS, Window
from moengage_pipelines.push.plan import plan_counts, plan_push
from moengage_pipelines.push.report import PushReport

DAY = 86_400


def test_a_100m_event_backfill_needs_more_than_a_day():
    rows = 100_000_000
    plan = plan_counts("events", rows=rows, bodies=rows // 1_000)
    minutes = rows / limits.TRANSITION_EVENTS_PER_MINUTE
    assert plan.eta_seconds == pytest.approx(minutes * 60)
    assert plan.days_needed == math.ceil(minutes * 60 / DAY) and plan.days_needed >= 2
    assert not plan.fits_a_day
    assert "fits a day: no" in plan.lines()[-1]


def test_ten_million_users_take_what_the_user_budget_allows():
    rows, bodies = 10_000_000, 12_345
    plan = plan_counts("users", rows=rows, bodies=bodies, bytes_=bodies * 99_000)
    minutes = rows / limits.TRANSITION_USERS_PER_MINUTE
    assert plan.eta_seconds == pytest.approx(minutes * 60)
    assert plan.fits_a_day and plan.days_needed == 1
    # The requests are spread evenly over the minutes the budget needs.
    assert plan.requests_per_window == pytest.approx(bodies / minutes)


def test_catalog_plans_count_requests_and_the_hourly_window_binds():
    bodies = 2_500
    plan = plan_counts("catalog", rows=bodies * limits.CATALOG_MAX_ITEMS, bodies=bodies)
    by_hour = bodies / limits.CATALOG_REQUESTS_PER_HOUR * 3_600
    by_minute = bodies / limits.CATALOG_REQUESTS_PER_MINUTE * 60
    assert by_hour > by_minute
    assert plan.units == bodies and plan.eta_seconds == pytest.approx(by_hour)


def test_other_budgets_can_be_planned_with():
    older = {TRANSITION_USERS: (Window.per_minute(10_000),)}
    plan = plan_counts("users", rows=1_000_000, bodies=1_000, limits=older)
    assert plan.eta_seconds == pytest.approx(1_000_000 / 10_000 * 60)


def test_a_push_shorter_than_a_window_sends_all_its_requests_in_it():
    plan = plan_counts("users", rows=500, bodies=3)
    assert plan.requests_per_window == 3 and plan.describe_eta() == "under a minute"


def test_nothing_to_send_takes_no_time():
    plan = plan_counts("users", rows=0, bodies=0)
    assert (plan.eta_seconds, plan.days_needed, plan.fits_a_day) == (0.0, 0, True)


def test_a_dry_run_report_becomes_a_plan_with_its_classes():
    report = PushReport(sync_name="s", entity="users", dry_run=True, users_sent=700,
                        bodies=7, bytes_sent=650_000, rows_new=500, rows_changed=150,
                        rows_retried=50, rows_unchanged=9_300)
    plan = plan_push(report)
    assert (plan.rows, plan.rows_new, plan.rows_changed, plan.rows_retried,
            plan.rows_unchanged) == (700, 500, 150, 50, 9_300)
    assert plan.to_metadata()["plan_bodies"] == 7
    assert plan.eta_seconds == pytest.approx(700 / limits.TRANSITION_USERS_PER_MINUTE * 60)

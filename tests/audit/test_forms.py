"""audit.forms.AuditFilterForm: the audit log's filters, validated before any query."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.forms import AuditFilterForm
from audit.selectors import AuditFilters
from console.ids import INVALID_ORDER_ID


def test_an_empty_form_filters_nothing():
    form = AuditFilterForm(data={})

    assert form.is_valid()
    assert form.filters() == AuditFilters()


def test_every_filter_is_read():
    form = AuditFilterForm(
        data={"username": "leyla", "order_id": " 4101 ", "date_from": "2026-02-01", "date_to": "2026-02-28"}
    )

    assert form.is_valid(), form.errors
    assert form.filters() == AuditFilters(
        username="leyla", order_id=4101, date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 2, 28)
    )


@pytest.mark.parametrize("order_id", ["abc", "0", "-5", "1.5", "99999999999999999", "١٢٣"])
def test_an_invalid_order_id_is_a_form_error(order_id):
    form = AuditFilterForm(data={"order_id": order_id})

    assert not form.is_valid()
    assert form.errors["order_id"] == [INVALID_ORDER_ID]


def test_an_order_id_longer_than_the_field_is_refused():
    form = AuditFilterForm(data={"order_id": "1" * 33})

    assert not form.is_valid()
    assert "order_id" in form.errors


def test_reversed_dates_are_a_form_error():
    form = AuditFilterForm(data={"date_from": "2026-03-01", "date_to": "2026-02-01"})

    assert not form.is_valid()
    assert form.non_field_errors() == ["The start date is after the end date."]


def test_one_day_is_a_valid_range():
    form = AuditFilterForm(data={"date_from": "2026-02-11", "date_to": "2026-02-11"})

    assert form.is_valid()


def test_a_bad_date_is_a_form_error():
    form = AuditFilterForm(data={"date_from": "2026-02-30"})

    assert not form.is_valid()
    assert "date_from" in form.errors

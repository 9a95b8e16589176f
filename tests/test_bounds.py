"""What the product accepts as a number or a date (lifecycle/bounds.py), and every
`<int:...>` route, pages and API, answering 404 for an id no row can have."""

from __future__ import annotations

import re
from datetime import date

import pytest

from lifecycle.bounds import INT_MAX, parse_day, parse_int
from tests.conftest import bearer, sign_in


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("7", 7),
        (" 42 ", 42),
        ("+3", 3),
        ("-5", -5),
        ("0012", 12),
        ("2147483647", INT_MAX),
    ],
)
def test_whole_numbers_in_ascii_digits_are_read(raw, value):
    assert parse_int(raw) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("²", "must be a whole number"),  # str.isdigit() says yes
        ("٣", "must be a whole number"),  # int() reads it as 3
        ("1_000", "must be a whole number"),  # int() reads it as 1000
        ("1.0", "must be a whole number"),
        ("1e3", "must be a whole number"),
        ("", "must be a whole number"),
        ("9" * 5000, "must be a whole number"),  # int() would spend time, then refuse
        ("2147483648", "must be at most 2147483647"),
        ("99999999999999999999", "must be at most 2147483647"),
        ("-2147483649", "must be at least -2147483648"),
    ],
)
def test_anything_else_is_refused_with_a_message(raw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_int(raw)


def test_a_narrower_range_is_named_in_the_message():
    assert parse_int("1", low=1) == 1
    with pytest.raises(ValueError, match="must be at least 1"):
        parse_int("0", low=1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9999-12-31", "must be between 1980-01-01 and 2200-12-31"),
        ("9990-01-01", "must be between 1980-01-01 and 2200-12-31"),
        ("1979-12-31", "must be between 1980-01-01 and 2200-12-31"),
        ("0001-01-01", "must be between 1980-01-01 and 2200-12-31"),
        ("2026-02-30", "must be a date (YYYY-MM-DD)"),
        ("someday", "must be a date (YYYY-MM-DD)"),
    ],
)
def test_dates_outside_the_calendar_window_are_refused(raw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_day(raw)


@pytest.mark.parametrize(
    ("raw", "day"),
    [("1980-01-01", date(1980, 1, 1)), ("2200-12-31", date(2200, 12, 31))],
)
def test_the_window_includes_its_ends(raw, day):
    assert parse_day(raw) == day


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


@pytest.mark.parametrize(
    "ident", [str(INT_MAX + 1), "99999999999999999999", "٣", "1_0"]
)
def test_every_id_route_answers_404_for_an_id_no_row_can_have(
    app, client, world, db, ident
):
    from lifecycle.auth import create_token

    _token, secret = create_token(db, user=world.a.it, name="walk")
    db.commit()
    sign_in(client, world.a.it)
    walked = []
    for rule, method in _int_routes(app):
        url = re.sub(r"<int:\w+>", ident, rule.rule)
        url = re.sub(r"<\w+>", "notes", url)
        api = url.startswith("/api/")
        response = client.open(
            url,
            method=method,
            headers=bearer(secret) if api else {},
            json={} if api and method != "GET" else None,
        )
        walked.append((method, url, response.status_code))
    assert len(walked) > 70
    assert [w for w in walked if w[2] != 404] == []

import datetime
import decimal
import uuid

import pytest
from graphql import GraphQLError, parse_value

from fraiseql.types.scalars import DateScalar, DateTimeScalar, DecimalScalar, IDScalar, JSONScalar


def test_id_serialises_uuids_and_strings() -> None:
    value = uuid.UUID(int=1)
    assert IDScalar.serialize(value) == str(value)
    assert IDScalar.serialize("abc") == "abc"
    assert IDScalar.parse_value("abc") == "abc"


def test_datetime_round_trip() -> None:
    parsed = DateTimeScalar.parse_value("2024-01-02T03:04:05Z")
    assert parsed == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert DateTimeScalar.serialize(parsed) == "2024-01-02T03:04:05+00:00"
    # Documents already hold ISO text: passed through unchanged.
    assert DateTimeScalar.serialize("2024-01-02T03:04:05.123456+00:00") == (
        "2024-01-02T03:04:05.123456+00:00"
    )
    assert DateTimeScalar.parse_literal(parse_value('"2024-01-02T03:04:05+02:00"')).utcoffset() == (
        datetime.timedelta(hours=2)
    )


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01T00:00:00", 12, None])
def test_datetime_rejects_bad_values_clearly(bad: object) -> None:
    with pytest.raises(GraphQLError, match="DateTime must be an ISO 8601 string"):
        DateTimeScalar.parse_value(bad)


def test_datetime_literal_must_be_a_string() -> None:
    with pytest.raises(GraphQLError, match="DateTime must be given as a string literal"):
        DateTimeScalar.parse_literal(parse_value("12"))


def test_date() -> None:
    assert DateScalar.parse_value("2024-02-29") == datetime.date(2024, 2, 29)
    assert DateScalar.serialize(datetime.date(2024, 2, 29)) == "2024-02-29"
    with pytest.raises(GraphQLError, match="Date must be a YYYY-MM-DD string"):
        DateScalar.parse_value("2023-02-29")


def test_decimal_keeps_every_digit() -> None:
    assert DecimalScalar.parse_value("12.50") == decimal.Decimal("12.50")
    assert DecimalScalar.serialize(decimal.Decimal("0.10")) == "0.10"
    assert DecimalScalar.parse_literal(parse_value("1.25")) == decimal.Decimal("1.25")
    assert DecimalScalar.serialize(3) == "3"


@pytest.mark.parametrize("bad", ["ten", "NaN", True, [1]])
def test_decimal_rejects_bad_values_clearly(bad: object) -> None:
    with pytest.raises(GraphQLError, match="Decimal"):
        DecimalScalar.parse_value(bad)


def test_json_passes_any_json_through() -> None:
    value = {"a": [1, "two", None, {"b": True}]}
    assert JSONScalar.serialize(value) == value
    assert JSONScalar.parse_literal(parse_value('{a: [1, "two", null]}')) == {"a": [1, "two", None]}
    with pytest.raises(GraphQLError, match="JSON cannot represent"):
        JSONScalar.serialize({1, 2})

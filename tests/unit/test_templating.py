"""The strict parser for templated arguments: what each converter accepts, and what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_customerprofiles.templating import (
    FLAG,
    MAPPING,
    VERIFY,
    ArgumentError,
    Collection,
    ConvertsTemplatedArguments,
    Moment,
    Number,
    OrNone,
    convert_arguments,
)

LABEL = "arg of Op"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("True", True),
        ("true", True),
        ("1", True),
        ("False", False),
        ("false", False),
        ("0", False),
        (" False\n", False),
    ],
)
def test_flag_accepts_bools_and_their_rendered_text(value, expected):
    assert FLAG(value, LABEL) is expected


@pytest.mark.parametrize("value", ["ture", "yes", "no", "FALSE", "", "2", 2, -1, 0.0, None, [], "None"])
def test_flag_refuses_anything_else_naming_the_argument(value):
    with pytest.raises(ArgumentError, match=r"^arg of Op must be true or false \(True, true, 1, False, false, 0\)"):
        FLAG(value, LABEL)


def test_a_refused_value_is_shown_short():
    with pytest.raises(ArgumentError) as error:
        FLAG("x" * 500, LABEL)
    assert "x" * 30 not in str(error.value)
    assert str(error.value).endswith("not 'xxxxxxxxxxxxxxxx...")


@pytest.mark.parametrize(
    ("converter", "value", "expected"),
    [
        (Number(int), "42", 42),
        (Number(int), " 7\n", 7),
        (Number(int), 3, 3),
        (Number(float), "0.25", 0.25),
        (Number(float), 2, 2.0),
        (Number(float), "1e3", 1000.0),
        (Number(float, at_least=0, at_most=1), "1", 1.0),
        (Number(float, greater_than=0), "0.5", 0.5),
        (Number(int, at_least=1), "1", 1),
    ],
)
def test_number_accepts_numbers_and_their_text(converter, value, expected):
    result = converter(value, LABEL)
    assert result == expected
    assert type(result) is converter.kind


@pytest.mark.parametrize(
    ("converter", "value", "expected_message"),
    [
        (Number(int), "many", "must be an integer, not 'many'"),
        (Number(int), "1.5", "must be an integer, not '1.5'"),
        (Number(int), 1.0, "must be an integer, not 1.0"),
        (Number(int), True, "must be an integer, not True"),
        (Number(float), "nan", "must be a finite number, not 'nan'"),
        (Number(float), float("inf"), "must be a finite number, not inf"),
        (Number(float), False, "must be a finite number, not False"),
        (Number(float, at_least=0, at_most=1), "1.5", "must be a finite number >= 0 <= 1, not '1.5'"),
        (Number(float, at_least=0, at_most=1), -0.1, "must be a finite number >= 0 <= 1, not -0.1"),
        (Number(float, greater_than=0), "0", "must be a finite number > 0, not '0'"),
        (Number(int, at_least=1), 0, "must be an integer >= 1, not 0"),
    ],
)
def test_number_refuses_other_values_and_values_out_of_bounds(converter, value, expected_message):
    with pytest.raises(ArgumentError) as error:
        converter(value, LABEL)
    assert str(error.value) == f"{LABEL} {expected_message}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        (("a", "b"), ["a", "b"]),
        ({"a": "x"}, {"a": "x"}),
        ('["a", "b"]', ["a", "b"]),
        ("['a', 'b']", ["a", "b"]),
        ('{"a": "x"}', {"a": "x"}),
        ("{'a': 'x'}", {"a": "x"}),
    ],
)
def test_collection_accepts_lists_dicts_and_their_json_or_python_literals(value, expected):
    assert Collection((list, dict))(value, LABEL) == expected


@pytest.mark.parametrize("value", ["rid,acct", "rid", "[rid]", "__import__('os').system('true')", "123", 5])
def test_collection_refuses_other_text_without_echoing_it(value):
    with pytest.raises(ArgumentError) as error:
        Collection((list, dict))(value, LABEL)
    message = str(error.value)
    expected = "must be a list or a dict (or its JSON / Python literal), not a"
    assert message == f"{LABEL} {expected} {type(value).__name__} that is not one"
    assert "rid" not in message


def test_json_literals_with_true_and_null_are_dicts():
    assert MAPPING('{"Enabled": true, "JobSchedule": null}', LABEL) == {"Enabled": True, "JobSchedule": None}


def test_a_collection_that_also_takes_text_keeps_other_text():
    sources = Collection((list,), text=True)
    assert sources("s3://bucket/in/[ab]*.parquet", LABEL) == "s3://bucket/in/[ab]*.parquet"
    assert sources("['s3://bucket/a.parquet', 'b.parquet']", LABEL) == ["s3://bucket/a.parquet", "b.parquet"]
    with pytest.raises(ArgumentError, match="must be a list \\(or its JSON / Python literal\\), or text, not a int"):
        sources(3, LABEL)


def test_deeply_nested_text_is_refused_not_a_crash():
    with pytest.raises(ArgumentError):
        MAPPING("[" * 200_000, LABEL)


def test_or_none_passes_none_and_empty_text_through():
    assert OrNone(FLAG)(None, LABEL) is None
    assert OrNone(FLAG)(" ", LABEL) is None
    assert OrNone(FLAG)("false", LABEL) is False
    with pytest.raises(ArgumentError):
        OrNone(FLAG)("nope", LABEL)


def test_moment_reads_iso_text():
    assert Moment()("2026-01-02T03:04:05+00:00", LABEL) == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    with pytest.raises(ArgumentError, match=r"^arg of Op must be a datetime or ISO 8601 text, not 'last week'$"):
        Moment()("last week", LABEL)


def test_verify_is_a_flag_or_a_ca_bundle_path():
    assert VERIFY("False", LABEL) is False
    assert VERIFY(True, LABEL) is True
    assert VERIFY("/etc/ssl/ca.pem", LABEL) == "/etc/ssl/ca.pem"
    assert VERIFY(None, LABEL) is None


class _Base:
    pre_executed = False

    def pre_execute(self, context):
        self.pre_executed = True


class _Op(ConvertsTemplatedArguments, _Base):
    argument_types = {"dry_run": FLAG, "limit": Number(int)}

    def __init__(self, dry_run, limit):
        self.dry_run = dry_run
        self.limit = limit


def test_pre_execute_converts_every_declared_argument_in_place():
    operator = _Op(dry_run="False", limit="5")
    operator.pre_execute({})
    assert (operator.dry_run, operator.limit, operator.pre_executed) == (False, 5, True)


def test_the_error_names_the_argument_and_the_class():
    with pytest.raises(ArgumentError, match=r"^limit of _Op must be an integer, not 'lots'$"):
        convert_arguments(_Op(dry_run=True, limit="lots"), _Op.argument_types)

"""
Every operator, sensor and transfer, found by walking the package: its template fields pass Airflow's
constructor rule, every templated non-string argument has a converter, and a rendered typo in any of
them fails a real DAG run naming the argument, before any call to the service.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import pkgutil
import re
import textwrap

import pytest
from airflow.sdk import DAG, BaseOperator

from airflow_provider_customerprofiles import operators, sensors, transfers
from airflow_provider_customerprofiles.templating import Collection, Flag, Moment, Number, OrNone
from airflow_provider_customerprofiles.testing import run_dag

# A rendered value each kind of converter must refuse. Converters that accept any text (a path or
# URI, such as ``verify`` or ``source``) have none: no rendered text is wrong for them.
REFUSED_TEXT = {Flag: "ture", Number: "many", Collection: "rid,acct", Moment: "last week"}
STRING_ANNOTATIONS = {"str", "str | None", "Optional[str]"}
PACKAGE = "airflow_provider_customerprofiles."


def _classes() -> list[type[BaseOperator]]:
    found = []
    for package in (operators, sensors, transfers):
        for module_info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(module_info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, BaseOperator)
                    and cls.__module__ == module.__name__
                    and cls.execute is not BaseOperator.execute
                ):
                    found.append(cls)
    return sorted(found, key=lambda cls: cls.__name__)


CLASSES = _classes()


def _init_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Keyword parameters of every constructor along the MRO (the closest class's wins)."""
    parameters: dict[str, inspect.Parameter] = {}
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass) and klass is not object:
            parameters.update(inspect.signature(klass.__init__).parameters)
    return parameters


def _annotation(parameter: inspect.Parameter) -> str:
    annotation = parameter.annotation
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _refusable(converter) -> tuple[type, str] | None:
    """The converter's kind and a rendered text it must refuse, or None when it accepts any text."""
    inner = converter.converter if isinstance(converter, OrNone) else converter
    if isinstance(inner, Collection) and inner.text:
        return None
    kind = type(inner)
    return (kind, REFUSED_TEXT[kind]) if kind in REFUSED_TEXT else None


def _constructor_assignments(cls: type) -> tuple[set[str], set[str]]:
    """
    Airflow's rule for template fields (its ``validate_operators_init`` pre-commit check, which is not
    installed with Airflow): each is set in a constructor as ``self.f = f`` (or ``f or <default>``) or
    passed on as ``super().__init__(f=f)``. Returns (fields set that way by any constructor along the
    MRO, fields this provider's constructors set any other way). As in Airflow's check, the arguments
    of an Amazon or SQL base class (``aws_conn_id``, ``botocore_config``, ``conn_id``...) are its business.
    """
    fields = set(cls.template_fields)
    good: set[str] = set()
    bad: set[str] = set()

    def judge(klass: type, field: str, value: ast.expr | None) -> None:
        if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
            value = value.values[0]
        if isinstance(value, ast.Name) and value.id == field:
            good.add(field)
        elif klass.__module__.startswith(PACKAGE):
            bad.add(field)

    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass.__init__)))
        except (OSError, TypeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                        and target.attr in fields
                    ):
                        judge(klass, target.attr, node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
                and isinstance(node.func.value, ast.Call)
                and getattr(node.func.value.func, "id", None) == "super"
            ):
                for keyword in node.keywords:
                    if keyword.arg in fields:
                        judge(klass, keyword.arg, keyword.value)
    return good, bad


def test_discovery_finds_the_provider_classes():
    names = {cls.__name__ for cls in CLASSES}
    assert {
        "ParquetToCustomerProfilesOperator",
        "CustomerProfilesMergeMatchesOperator",
        "CustomerProfilesIdentityResolutionJobSensor",
        "CustomerProfilesMatchesToSqlOperator",
    } <= names
    assert "MatchDatasetExportOperator" not in names  # a base with no execute of its own


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_template_fields_pass_airflows_constructor_rule(cls):
    good, bad = _constructor_assignments(cls)
    owned_by_airflow = {
        name
        for klass in cls.__mro__
        if "__init__" in vars(klass) and not klass.__module__.startswith(PACKAGE) and klass is not object
        for name in inspect.signature(klass.__init__).parameters
    }
    assert not bad, f"{cls.__name__} transforms template fields in a constructor: {sorted(bad)}"
    missing = set(cls.template_fields) - owned_by_airflow - good
    assert not missing, f"{cls.__name__} never sets {sorted(missing)} from a same-named argument"
    for field in cls.template_fields:
        assert f":param {field}:" in inspect.getdoc(cls), f"{cls.__name__} does not document {field}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_templated_non_string_argument_has_a_converter(cls):
    parameters = _init_parameters(cls)
    for field in cls.template_fields:
        if _annotation(parameters[field]) not in STRING_ANNOTATIONS:
            assert field in cls.argument_types, f"{cls.__name__}.{field} is templated but never converted"


def _placeholder(parameter: inspect.Parameter):
    """A value for a required argument, by its annotation: the task fails before it is used."""
    annotation = _annotation(parameter)
    for word, value in (("dict", {}), ("list", []), ("str", "placeholder"), ("int", 1), ("float", 0.5)):
        if word in annotation:
            return value
    raise AssertionError(f"no placeholder for {parameter.name}: {annotation}")


def _task_kwargs(cls: type, field: str, conn_id: str) -> dict:
    parameters = _init_parameters(cls)
    kwargs = {
        name: _placeholder(parameter)
        for name, parameter in parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty
    }
    for connection in ("aws_conn_id", "conn_id"):
        if connection in parameters:
            kwargs[connection] = conn_id
    kwargs["task_id"] = field
    kwargs[field] = "{{ params.%s }}" % field  # noqa: UP031 (a Jinja template, not a format)
    return kwargs


def _refused_text(cls: type) -> dict[str, str]:
    """Each templated argument of ``cls`` that some rendered text is wrong for, with such a text."""
    found = {field: _refusable(converter) for field, converter in cls.argument_types.items()}
    return {field: kind_text[1] for field, kind_text in found.items() if kind_text and field in cls.template_fields}


@pytest.mark.parametrize("cls", [cls for cls in CLASSES if _refused_text(cls)], ids=lambda cls: cls.__name__)
def test_a_rendered_typo_in_any_converted_argument_fails_the_task_naming_it(airflow_db, emulator, task_log, cls):
    refused = _refused_text(cls)
    with DAG(
        f"typo_{cls.__name__}",
        schedule=None,
        start_date=dt.datetime(2026, 1, 1),
        catchup=False,
        params=refused,
    ) as dag:
        for field in refused:
            cls(**_task_kwargs(cls, field, emulator.conn_id))

    tis = run_dag(dag)

    log = task_log()
    for field in refused:
        assert tis[field].state == "failed", field
        assert f"{field} of {cls.__name__} must be" in log
    assert emulator.metrics()["operations"] == {}, "no task may reach the service with an unconverted argument"


def _documented_as_templated(cls: type) -> set[str]:
    """The ``:param name:`` entries of the class docstring whose text says "(templated)"."""
    entries = re.split(r"^\s*:param (\w+):", inspect.getdoc(cls) or "", flags=re.MULTILINE)[1:]
    return {name for name, text in zip(entries[::2], entries[1::2], strict=True) if "(templated)" in text}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_docstring_marks_exactly_the_template_fields_as_templated(cls):
    """``template_fields`` is the one declaration; the reference users read must agree with it."""
    assert _documented_as_templated(cls) == set(cls.template_fields)

"""
Griffe extension: show base-class arguments that a class documents but receives through ``**kwargs``.

Operators document ``aws_conn_id``, ``region_name``, ... (taken by ``AwsBaseOperator``) in
their own docstring, as the Amazon provider does. Griffe reads only the class's own
``__init__`` and would warn that those names are not parameters. This adds each documented
name that a base class's ``__init__`` really accepts, so a misspelt name still warns.
Bases outside the package are read from their one source file (loading all of Airflow
statically would take minutes).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import griffe

_DOCUMENTED = re.compile(r"^\s*:param\s+(?:\S+\s+)?(\w+):", re.MULTILINE)


@functools.cache
def _external_class(path: str) -> griffe.Class | None:
    """The class at ``path`` (``package.module.Class``), parsed from its module's file only."""
    module_name, _, class_name = path.rpartition(".")
    files = (Path(root, *module_name.split(".")).with_suffix(".py") for root in sys.path)
    file = next((file for file in files if file.is_file()), None)
    if file is None:
        return None
    module = griffe.visit(module_name, filepath=file, code=file.read_text())
    found = module.members.get(class_name)
    return found if isinstance(found, griffe.Class) else None


def _base_classes(cls: griffe.Class) -> Iterator[griffe.Class]:
    for base in cls.bases:
        path = getattr(base, "canonical_path", str(base))
        if isinstance(base, griffe.ExprSubscript):
            path = base.left.canonical_path
        try:
            found = cls.modules_collection[path]
        except KeyError:
            found = _external_class(path)
        if isinstance(found, griffe.Alias):
            found = found.final_target
        if isinstance(found, griffe.Class):
            yield found
            yield from _base_classes(found)


def _base_parameters(cls: griffe.Class) -> dict[str, griffe.Parameter]:
    found: dict[str, griffe.Parameter] = {}
    for base in _base_classes(cls):
        init = base.members.get("__init__")
        for parameter in init.parameters if isinstance(init, griffe.Function) else ():
            found.setdefault(parameter.name, parameter)
    return found


def _classes(obj: griffe.Object) -> Iterator[griffe.Class]:
    for member in obj.members.values():
        if member.is_alias:
            continue
        if member.is_class:
            yield member
        if member.is_module or member.is_class:
            yield from _classes(member)


class InheritedParameters(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for cls in _classes(pkg):
            init = cls.members.get("__init__")
            if not cls.docstring or not isinstance(init, griffe.Function):
                continue
            own = init.parameters
            var_keyword = next((p for p in own if p.kind is griffe.ParameterKind.var_keyword), None)
            if var_keyword is None:
                continue
            inherited = _base_parameters(cls)
            del own[var_keyword.name]
            for name in _DOCUMENTED.findall(cls.docstring.value):
                if name not in own and name in inherited:
                    base = inherited[name]
                    own[name] = griffe.Parameter(
                        name, annotation=base.annotation, kind=griffe.ParameterKind.keyword_only, default=base.default
                    )
            own[var_keyword.name] = var_keyword

"""Every API schema has a name of its own: OpenAPI keys components by class name, so two
routers' schemas of one name would describe each other's answers."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

from ninja import Schema

import ordersight.api


def test_no_two_api_schemas_share_a_name():
    seen: dict[str, set[str]] = defaultdict(set)
    for module_info in pkgutil.iter_modules(ordersight.api.__path__):
        module = importlib.import_module(f"ordersight.api.{module_info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Schema)
                and value.__module__ == module.__name__
            ):
                seen[name].add(module.__name__)
    shared = {name: modules for name, modules in seen.items() if len(modules) > 1}
    assert shared == {}


def test_no_two_operations_share_an_operation_id():
    # Clients and tools (code generators, schemathesis's links) find an operation by its
    # operationId; ninja names one after its view function, so views shared by two routes
    # must be named apart.
    from ordersight.api import api

    paths = api.get_openapi_schema()["paths"]
    ids = [operation["operationId"] for item in paths.values() for operation in item.values()]
    shared = {name for name in ids if ids.count(name) > 1}
    assert shared == set()
    assert len(ids) > 100  # every route of the API was looked at

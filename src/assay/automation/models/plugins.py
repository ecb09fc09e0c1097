"""Python models, registered by the operator when the server starts and named by requests.

No request ever imports or runs code by name: `assay serve --plugin NAME=module:function`
(repeatable) and every installed `assay.models` entry point are imported once, at start,
and a project's settings pick one of them as {"type": "python", "name": NAME}.

The contract: a plugin is a function that takes a list of items (task params as the kind
validated them) and returns one {"response": ..., "confidence": 0..1, "probabilities"?:
{label: p}} per item, in order; `response` is an answer in the kind's format
({"label": "pos"} for categorization).
"""

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

ENTRY_POINT_GROUP = "assay.models"
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

Plugin = Callable[[list[dict[str, Any]]], Any]


class PluginError(ValueError):
    """A plugin the operator named cannot be registered; the message says why."""


_lock = threading.Lock()
_registered: dict[str, Plugin] = {}


def parse_plugin(entry: str) -> tuple[str, str]:
    """ "NAME=module:function" -> (NAME, "module:function")."""
    name, sep, target = entry.partition("=")
    name, target = name.strip(), target.strip()
    if not sep or not NAME.match(name) or not target:
        raise PluginError(f"expected NAME=module:function, got {entry!r}")
    return name, target


def resolve(target: str) -> Plugin:
    """The callable named by "module:attribute" (attribute may be dotted)."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise PluginError(f"expected 'module:function', got {target!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError(f"cannot import {module_name!r}: {exc}") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise PluginError(f"{module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise PluginError(f"{target!r} is not callable")
    return obj


def _entry_points() -> dict[str, Plugin]:
    found = {}
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[point.name] = point.load()
        except Exception as exc:
            raise PluginError(f"entry point {point.name}={point.value}: {exc}") from None
    return found


def register_plugins(entries: Iterable[str] = (), entry_points: bool = True) -> list[str]:
    """Import and register the plugins `entries` name ("NAME=module:function") and, with
    `entry_points`, those installed packages declare; returns every registered name.
    Registering a name again is allowed only for the same function."""
    found = _entry_points() if entry_points else {}
    for entry in entries:
        name, target = parse_plugin(entry)
        found[name] = resolve(target)
    with _lock:
        for name, function in found.items():
            if _registered.get(name, function) is not function:
                raise PluginError(f"plugin {name!r} is already registered as another function")
        _registered.update(found)
        return sorted(_registered)


def plugin(name: str) -> Plugin:
    """The plugin registered as `name`; a ValueError that lists the registered names if
    there is none."""
    found = _registered.get(name)
    if found is None:
        names = ", ".join(sorted(_registered)) or "none"
        raise ValueError(
            f"no plugin named {name!r} is registered (registered: {names}); the operator"
            " adds them with `assay serve --plugin NAME=module:function`"
        )
    return found

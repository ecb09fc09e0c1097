"""Optional dependencies (pip extras), imported only by the features that need them.

The base install stays small enough to start in seconds; a feature whose extra is
missing says which one to install instead of failing on an import deep inside.
"""

import importlib
import importlib.util
from types import ModuleType


class MissingExtra(ImportError):
    """A feature's optional dependency is not installed; the message names the extra."""


def missing(module: str, extra: str, feature: str) -> str | None:
    """Why `feature` cannot run here (its `extra` is not installed), or None if it can."""
    if importlib.util.find_spec(module.partition(".")[0]) is None:
        return f"{feature} needs the {extra} extra: pip install 'assay[{extra}]'"
    return None


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import `module`, or raise MissingExtra naming the extra that brings it."""
    if message := missing(module, extra, feature):
        raise MissingExtra(message)
    return importlib.import_module(module)

"""Faults the harness injects, one module per family, registered by their scenario ``type``.

Importing this package imports every family module present, so ``REGISTRY`` is complete.
"""

from __future__ import annotations

import importlib

from chaos.faults.base import (
    CLEANERS,
    REGISTRY,
    Check,
    Evidence,
    Fault,
    FaultContext,
    FaultParams,
    clean_leftovers,
    register,
    register_cleaner,
)

FAMILY_MODULES = (
    "chaos.faults.network",
    "chaos.faults.database",
    "chaos.faults.cache",
    "chaos.faults.auth",
    "chaos.faults.resources",
    "chaos.faults.rbac",
    "chaos.faults.inprocess",
)

for _module in FAMILY_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as error:
        if error.name != _module:  # a family that exists but fails to import is a real error
            raise

__all__ = [
    "CLEANERS",
    "FAMILY_MODULES",
    "REGISTRY",
    "Check",
    "Evidence",
    "Fault",
    "FaultContext",
    "FaultParams",
    "clean_leftovers",
    "register",
    "register_cleaner",
]

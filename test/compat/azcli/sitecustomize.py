"""Import shim for Debian's azure-cli 2.45 build (contracts/AZURE_CLI.md §7).

Debian packages azure-cli 2.45.0 with azure-mgmt-authorization 3.0.0, while
upstream 2.45 pins 0.61. az's role module still reads the 0.61 attribute
``<operations>.config`` (and ``<client>.config``); 3.0.0 names it ``_config``.
So every ``az role ...`` command, and the role-assignment step of
``az ad sp create-for-rbac --role``, die before sending a request:

    AttributeError: 'RoleAssignmentsOperations' object has no attribute 'config'

The compatibility test puts this directory on PYTHONPATH, so Python imports
this file at start-up. It wraps the loader of every azure.mgmt.authorization
module and, once a module has run, gives its operations classes and the
management client a read-only ``config`` property aliasing ``_config``. A
class that already has ``config`` (an upstream build) is left alone, so the
shim is a no-op where the defect is absent. Nothing on the wire changes.

This file belongs to Tessera's test tree; it is not part of the server.
"""

import importlib.abc
import sys

_PACKAGE = "azure.mgmt.authorization"


def _alias_config(module):
    for obj in list(vars(module).values()):
        if not isinstance(obj, type) or obj.__module__ != module.__name__:
            continue
        name = obj.__name__
        if not (name.endswith("Operations") or name == "AuthorizationManagementClient"):
            continue
        if "config" in dir(obj):
            continue
        obj.config = property(lambda self: self._config)


class _AliasConfigFinder(importlib.abc.MetaPathFinder):
    """Finds azure.mgmt.authorization modules through the other finders and
    patches each after it executes."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _PACKAGE and not fullname.startswith(_PACKAGE + "."):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_and_alias(module):
            exec_module(module)
            _alias_config(module)

        loader.exec_module = exec_and_alias
        return spec


sys.meta_path.insert(0, _AliasConfigFinder())

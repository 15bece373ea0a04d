"""pydash.objects subset: get, has, omit, set_, unset (see __init__.py)."""

import copy
import re

__all__ = ["get", "has", "omit", "set_", "unset"]

_MISSING = object()
# "a.b[0].c", with "\." escaping a literal dot, as pydash.to_path splits it.
_TOKEN = re.compile(r"\[(-?\d+)\]|((?:\\.|[^.\[\]\\])+)")


def to_path(path):
    """Split a pydash path (string, int or list of keys) into its keys."""
    if path is None:
        return []
    if isinstance(path, (list, tuple)):
        keys = []
        for part in path:
            # A list element is one key, as in pydash (no further splitting).
            keys.append(part)
        return keys
    if isinstance(path, int):
        return [path]
    if not isinstance(path, str):
        return [path]
    if path == "":
        return [""]
    keys = []
    for index, name in _TOKEN.findall(path):
        if index:
            keys.append(int(index))
        else:
            keys.append(re.sub(r"\\(.)", r"\1", name))
    return keys


def _lookup(obj, key):
    """One step of get: mapping key, sequence index or attribute."""
    if obj is None:
        return _MISSING
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        # pydash also tries the other type for "0"/0 style keys.
        if isinstance(key, int) and str(key) in obj:
            return obj[str(key)]
        if isinstance(key, str) and key.lstrip("-").isdigit() and int(key) in obj:
            return obj[int(key)]
        return _MISSING
    if isinstance(obj, (list, tuple)):
        try:
            return obj[int(key)]
        except (ValueError, TypeError, IndexError):
            return _MISSING
    if hasattr(obj, "__getitem__") and not isinstance(obj, (str, bytes)):
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError):
            pass
    if isinstance(key, str):
        try:
            return getattr(obj, key)
        except AttributeError:
            return _MISSING
        except Exception:  # pylint:disable=broad-except
            return _MISSING
    return _MISSING


def get(obj, path, default=None):
    """Value at path of obj, or default when any step is missing."""
    keys = to_path(path)
    if not keys:
        return obj if obj is not None else default
    # pydash returns obj[path] first when the whole string is itself a key.
    if isinstance(obj, dict) and isinstance(path, str) and path in obj:
        return obj[path]
    current = obj
    for key in keys:
        current = _lookup(current, key)
        if current is _MISSING:
            return default
    return current


def has(obj, path):
    """Whether path exists in obj."""
    sentinel = object()
    return get(obj, path, sentinel) is not sentinel


def set_(obj, path, value):
    """Set value at path of obj in place (creating dicts, or lists for
    integer keys, on the way) and return obj."""
    keys = to_path(path)
    if not keys:
        return obj
    current = obj
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if last:
            _assign(current, key, value)
            break
        nxt = _lookup(current, key)
        if nxt is _MISSING or nxt is None:
            nxt = [] if isinstance(keys[i + 1], int) else {}
            _assign(current, key, nxt)
        current = nxt
    return obj


def _assign(container, key, value):
    if isinstance(container, list):
        index = int(key)
        if index >= len(container):
            container.extend([None] * (index + 1 - len(container)))
        container[index] = value
    elif isinstance(container, dict) or hasattr(container, "__setitem__"):
        container[key] = value
    else:
        setattr(container, key, value)


def unset(obj, path):
    """Remove the value at path of obj in place; True if something was removed."""
    keys = to_path(path)
    if not keys:
        return False
    parent = get(obj, keys[:-1]) if len(keys) > 1 else obj
    key = keys[-1]
    if isinstance(parent, dict) and key in parent:
        del parent[key]
        return True
    if isinstance(parent, list):
        try:
            parent.pop(int(key))
            return True
        except (ValueError, IndexError):
            return False
    if parent is not None and isinstance(key, str) and hasattr(parent, key):
        try:
            delattr(parent, key)
            return True
        except AttributeError:
            return False
    return False


def omit(obj, *paths):
    """A copy of obj without the given keys or deep paths.

    Paths may be passed as separate arguments or as one list
    (pydash.omit(d, ["name", "id"]) and pydash.omit(d, "name", "id")).
    Objects that are not dicts are first turned into a dict of their
    attributes, as pydash does.
    """
    flat = []
    for p in paths:
        if isinstance(p, (list, tuple)):
            flat.extend(p)
        else:
            flat.append(p)
    if obj is None:
        return {}
    if isinstance(obj, dict):
        result = copy.deepcopy(obj)
    elif isinstance(obj, (list, tuple)):
        result = dict(enumerate(copy.deepcopy(list(obj))))
    else:
        result = {k: copy.deepcopy(v) for k, v in vars(obj).items()}
    for p in flat:
        if isinstance(result, dict) and p in result:
            del result[p]
        else:
            unset(result, p)
    return result

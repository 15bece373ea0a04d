"""Minimal stand-in for pydash, for azure-ai-ml on machines without pydash.

Debian's python3-azure ships azure-ai-ml 1.4.0 but not its dependency pydash,
so `import azure.ai.ml` fails. azure-ai-ml 1.4.0 uses exactly three pydash
functions (grep '\\bpydash\\b\\|from pydash' under azure/ai/ml):

  pydash.get(obj, path, default)        entities/_validation.py,
                                        entities/_builders/sweep.py
  from pydash import get                entities/_job/pipeline/_component_translatable.py
  pydash.omit(obj, keys)                _utils/utils.py (hash_dict)
  from pydash import objects;
  objects.set_(obj, path, value)        _schema/core/schema.py (params_override)

This package implements those with pydash's semantics for the path forms the
SDK passes (dotted strings such as "trial.componentId" or
"jobs.job_a.inputs.input_str", "a[0].b" indexes, "\\." escapes, and lists of
keys). Put contrib/python on PYTHONPATH only where the real pydash is not
installed (docs/quickstart.md step 6 shows the line); with internet access,
`pip install pydash` is the better fix.
"""

from .objects import get, omit, set_, has, unset  # noqa: F401

from . import objects  # noqa: F401

__version__ = "0.0.0+tessera-shim"

__all__ = ["get", "omit", "set_", "has", "unset", "objects"]

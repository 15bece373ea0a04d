"""azure-ai-ml 1.4.0 MLClient against Tessera, as user code writes it.

    credential = DefaultAzureCredential()          # no keyword arguments
    credential.get_token("https://management.azure.com/.default")
    ml_client = MLClient.from_config(credential=credential, path=config_path)
    ml_client.workspaces.get(name) ...

The environment selects everything (CLIENTS.md §1 row (c), §5):
AZURE_TENANT_ID=adfs, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
AZURE_AUTHORITY_HOST, REQUESTS_CA_BUNDLE, AZUREML_DEV_URL_MFE. Debian's
python3-azure lacks pydash, which azure-ai-ml imports; the Go test puts
shim/ (a minimal pydash) on PYTHONPATH.

Inputs:
  COMPAT_ML_CONFIG   path of the config.json (subscription_id, resource_group,
                     workspace_name)
  COMPAT_ML_STEPS    comma-separated steps, run in order (see STEPS below)
  COMPAT_ML_COMPUTE  compute name (default cpu-cluster)

Output (one JSON line, see _compat.py): {"steps": [...], "requests": [...]}.
Every step is recorded, whether it succeeded or not, so that one rejected
response does not hide the rest:
  {"step", "ok": true, "value": <what the SDK returned, as names and types>}
  {"step", "ok": false, "error": <exception type>, "message",
   "status_code", "error_code" (HttpResponseError), "traceback": <tail>}
A step needing an earlier step's result (the MLClient) is skipped with
error "Skipped" when that one failed. "requests" lists every HTTP exchange
the SDK made (method, path, status, the LRO headers), never credentials.
The script exits 0 when it could run the steps at all; the Go test judges
them.
"""

import json
import os
import sys
import time
import traceback
from urllib.parse import urlsplit

import _compat

_requests = []


def record_requests():
    """Log each HTTP exchange azure-core makes (MSAL's too, it uses the same transport)."""
    from azure.core.pipeline.transport import RequestsTransport

    original = RequestsTransport.send

    def send(self, request, **kwargs):
        started = time.time()
        entry = {"method": request.method}
        parts = urlsplit(request.url)
        entry["host"] = parts.netloc
        entry["path"] = parts.path + ("?" + parts.query if parts.query else "")
        try:
            response = original(self, request, **kwargs)
        except Exception as ex:  # pylint:disable=broad-except
            entry["exception"] = "%s: %s" % (type(ex).__name__, ex)
            _requests.append(entry)
            raise
        entry["status"] = response.status_code
        entry["ms"] = int((time.time() - started) * 1000)
        for name in ("Azure-AsyncOperation", "Location", "Retry-After", "Content-Type"):
            value = response.headers.get(name)
            if value:
                entry[name] = value
        if response.status_code >= 400:
            try:
                entry["body"] = response.text()[:2000]
            except Exception:  # pylint:disable=broad-except
                pass
        _requests.append(entry)
        return response

    RequestsTransport.send = send


def _tail(limit=25):
    lines = traceback.format_exc().rstrip().splitlines()
    return "\n".join(lines[-limit:])


def _failure(ex):
    out = {"ok": False, "error": type(ex).__name__, "message": (getattr(ex, "message", None) or str(ex))[:4000]}
    status = getattr(ex, "status_code", None)
    if status is None and getattr(ex, "response", None) is not None:
        status = getattr(ex.response, "status_code", None)
    if status is not None:
        out["status_code"] = status
    error = getattr(ex, "error", None)
    if error is not None and getattr(error, "code", None):
        out["error_code"] = error.code
    # azure-ai-ml sometimes wraps the core error; keep the inner one.
    inner = getattr(ex, "inner_exception", None) or ex.__cause__ or ex.__context__
    if inner is not None and inner is not ex:
        out["inner_error"] = type(inner).__name__
        if getattr(inner, "status_code", None) is not None:
            out.setdefault("status_code", inner.status_code)
        inner_error = getattr(inner, "error", None)
        if inner_error is not None and getattr(inner_error, "code", None):
            out.setdefault("error_code", inner_error.code)
    out["traceback"] = _tail()
    return out


def _entity(obj):
    """Name and type of an azure-ai-ml entity, plus what the test checks."""
    out = {"class": type(obj).__name__, "name": getattr(obj, "name", None)}
    for attr in ("type", "location", "provisioning_state", "size", "min_instances", "max_instances",
                 "id", "display_name", "resource_group", "account_name", "container_name", "protocol",
                 "endpoint", "version", "status", "idle_time_before_scale_down", "tier"):
        value = getattr(obj, attr, None)
        if value is not None and not callable(value):
            out[attr] = value if isinstance(value, (str, int, float, bool)) else str(value)
    creds = getattr(obj, "credentials", None)
    if creds is not None:
        out["credentials"] = type(creds).__name__
    return out


class Context:
    def __init__(self):
        self.credential = None
        self.ml_client = None
        self.workspace_name = None
        self.compute_name = os.environ.get("COMPAT_ML_COMPUTE", "cpu-cluster")


def step_credential(ctx):
    from azure.identity import DefaultAzureCredential

    ctx.credential = DefaultAzureCredential()
    token = ctx.credential.get_token(_compat.DEFAULT_SCOPE)
    return {
        "credential": _compat.credential_name(ctx.credential),
        "expires_on": token.expires_on,
        "now": int(time.time()),
        "token_parts": len(token.token.split(".")),
    }


def step_from_config(ctx):
    from azure.ai.ml import MLClient

    path = _compat.require("COMPAT_ML_CONFIG")
    ctx.ml_client = MLClient.from_config(credential=ctx.credential, path=path)
    with open(path, encoding="utf-8") as f:
        ctx.workspace_name = json.load(f)["workspace_name"]
    return {
        "subscription_id": ctx.ml_client.subscription_id,
        "resource_group": ctx.ml_client.resource_group_name,
        "workspace_name": ctx.ml_client.workspace_name,
    }


def step_workspaces_get(ctx):
    return _entity(ctx.ml_client.workspaces.get(ctx.workspace_name))


def step_workspaces_list(ctx):
    return [_entity(w) for w in ctx.ml_client.workspaces.list()]


def step_compute_create(ctx):
    from azure.ai.ml.entities import AmlCompute

    compute = AmlCompute(name=ctx.compute_name, size="STANDARD_DS3_V2", min_instances=0, max_instances=2)
    poller = ctx.ml_client.compute.begin_create_or_update(compute)
    result = poller.result()
    out = _entity(result)
    out["poller_status"] = poller.status()
    return out


def step_compute_get(ctx):
    return _entity(ctx.ml_client.compute.get(ctx.compute_name))


def step_compute_list(ctx):
    return [_entity(c) for c in ctx.ml_client.compute.list()]


def step_models_list(ctx):
    return [_entity(m) for m in ctx.ml_client.models.list()]


def step_jobs_list(ctx):
    return [_entity(j) for j in ctx.ml_client.jobs.list()]


def step_datastores_list(ctx):
    return [_entity(d) for d in ctx.ml_client.datastores.list()]


def step_compute_delete(ctx):
    poller = ctx.ml_client.compute.begin_delete(ctx.compute_name)
    result = poller.result()
    return {"result": None if result is None else str(result), "poller_status": poller.status()}


STEPS = {
    "credential": (step_credential, None),
    "from_config": (step_from_config, "credential"),
    "workspaces.get": (step_workspaces_get, "from_config"),
    "workspaces.list": (step_workspaces_list, "from_config"),
    "compute.create": (step_compute_create, "from_config"),
    "compute.get": (step_compute_get, "from_config"),
    "compute.list": (step_compute_list, "from_config"),
    "models.list": (step_models_list, "from_config"),
    "jobs.list": (step_jobs_list, "from_config"),
    "datastores.list": (step_datastores_list, "from_config"),
    "compute.delete": (step_compute_delete, "from_config"),
}


def main():
    record_requests()
    names = [s.strip() for s in _compat.require("COMPAT_ML_STEPS").split(",") if s.strip()]
    for name in names:
        if name not in STEPS:
            raise SystemExit("compat script: unknown step %r (known: %s)" % (name, ", ".join(STEPS)))
    ctx = Context()
    done = set()
    steps = []
    for name in names:
        func, needs = STEPS[name]
        record = {"step": name}
        start = len(_requests)
        if needs is not None and needs not in done:
            record.update({"ok": False, "error": "Skipped", "message": "needs step %s, which did not succeed" % needs})
        else:
            try:
                record["value"] = func(ctx)
                record["ok"] = True
                done.add(name)
            except Exception as ex:  # pylint:disable=broad-except
                record.update(_failure(ex))
                print("step %s failed:\n%s" % (name, traceback.format_exc()), file=sys.stderr, flush=True)
        record["requests"] = list(range(start, len(_requests)))
        steps.append(record)
    import azure.ai.ml
    import azure.core

    return {
        "steps": steps,
        "requests": _requests,
        "ml_versions": {"azure_ai_ml": azure.ai.ml.__version__, "azure_core": azure.core.__version__},
    }


if __name__ == "__main__":
    sys.exit(_compat.run(main))

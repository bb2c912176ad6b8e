"""The OpenAPI document is one a client generator and a reader can use: every error documented as a
problem, the headers named, descriptions from the handlers, no untyped objects, docs pages served by the
product itself, and openapi-python-client generating a working client without a warning."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.live_server import live_server

METHODS = ("get", "put", "post", "patch", "delete")
PROBLEM_REF = "#/components/schemas/Problem"


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


async def _document(client) -> dict:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_every_operation_is_described_and_documents_its_problems(client):
    document = await _document(client)
    operations = list(_operations(document))
    assert len(operations) > 50
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("description"), f"{where}: no description (handler docstring)"
        responses = operation["responses"]
        for code, response in responses.items():
            if code.startswith("2"):
                assert "X-Request-ID" in response.get("headers", {}), f"{where} {code}: X-Request-ID"
                continue
            content = response["content"]
            assert list(content) == ["application/problem+json"], f"{where} {code}: {list(content)}"
            assert content["application/problem+json"]["schema"] == {"$ref": PROBLEM_REF}
            if code in {"409", "423", "429", "503"}:
                assert "Retry-After" in response["headers"], f"{where} {code}: Retry-After"
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), f"{where}: 401/403 undocumented"
        if "{" in path:
            assert "404" in responses, f"{where}: 404 undocumented"
        inputs = [p for p in operation.get("parameters", []) if p["name"] != "X-Request-ID"]
        if inputs or operation.get("requestBody"):
            assert {"400", "422"} <= set(responses), f"{where}: 400/422 undocumented"
    by_id = {operation["operationId"]: operation for _, _, operation in operations}
    assert {"423", "429", "503"} <= set(by_id["requestLoginCode"]["responses"])
    assert {"423", "429", "503"} <= set(by_id["submitCheckin"]["responses"])
    assert "423" in by_id["staffLogin"]["responses"]


async def test_headers_are_documented(client):
    document = await _document(client)
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}
    names = {p["name"] for p in by_id["placeMeasure"]["parameters"]}
    assert {"Idempotency-Key", "X-Request-ID"} <= names
    assert "Idempotent-Replayed" in by_id["placeMeasure"]["responses"]["201"]["headers"]
    # Logins opt out of Idempotency-Key (a failed attempt counts whatever the key): not offered there.
    assert "Idempotency-Key" not in {p["name"] for p in by_id["staffLogin"]["parameters"]}
    assert set(document["components"]["headers"]) >= {"X-Request-ID", "Retry-After", "Idempotent-Replayed"}


def _bare_objects(node, path=""):
    """Objects with neither properties nor a typed value: a generator can only give them as `dict`."""
    if isinstance(node, dict):
        extra = node.get("additionalProperties")
        if node.get("type") == "object" and not node.get("properties") and extra in (None, {}, True):
            yield path
        for key, value in node.items():
            yield from _bare_objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _bare_objects(value, f"{path}[{index}]")


async def test_no_response_is_an_untyped_object(client):
    document = await _document(client)
    bare = [where for where in _bare_objects(document["paths"]) if "/responses/" in where]
    bare += list(_bare_objects(document["components"]["schemas"]))
    assert bare == [], "untyped objects:\n" + "\n".join(bare)


async def test_docs_page_loads_its_scripts_from_the_product(client):
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, page.text[:500]
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), f"the docs page loads {asset} from another host"
        if asset.startswith("data:"):
            continue
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert loaded.headers["content-type"].split(";")[0] in {"text/javascript", "text/css"}
        assert len(loaded.content) > 1000, asset
    assert (await client.get("/schema/assets/../../pyproject.toml")).status_code == 404
    assert (await client.get("/schema/assets/package.json")).status_code == 404


GENERATOR = shutil.which("openapi-python-client") or str(
    Path(sys.executable).parent / "openapi-python-client"
)


async def test_a_generated_client_builds_without_warnings_and_works(client, tmp_path, isolated_database):
    document = await _document(client)
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(document))
    run = await asyncio.to_thread(
        subprocess.run,
        [GENERATOR, "generate", "--path", str(schema), "--output-path", str(tmp_path / "client")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        # It formats what it generates with ruff, from the same environment.
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"},
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "warning" not in output.lower(), output[-4000:]
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        package = importlib.import_module("remotecase_client")
        health_api = importlib.import_module("remotecase_client.api.ops.health")
        with live_server(isolated_database) as url, package.Client(base_url=url) as http:
            answer = await asyncio.to_thread(health_api.sync_detailed, client=http)
        assert answer.status_code == 200
        assert answer.parsed.status == "ok"
        assert answer.parsed.components["database"].ok is True
    finally:
        sys.path.remove(str(tmp_path / "client"))

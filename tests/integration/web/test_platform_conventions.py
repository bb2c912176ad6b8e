"""Health, request ids, problem details, OpenAPI, bad input."""

from __future__ import annotations

from tests.support.api import bearer, demo_staff


async def test_health_reports_database(client, demo_logins):
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["database"]["info"] is None  # details are for staff
    staff = await client.get("/health", headers=bearer(await demo_staff(client, demo_logins, "officer")))
    assert staff.json()["components"]["database"]["info"]["backend"] in {"sqlite", "postgresql"}


async def test_every_response_carries_a_request_id(client):
    mine = "req-1234567890"
    echoed = await client.get("/health", headers={"X-Request-ID": mine})
    assert echoed.headers["x-request-id"] == mine
    generated = await client.get("/no/such/path")
    assert len(generated.headers["x-request-id"]) >= 16
    assert generated.status_code == 404
    assert generated.headers["content-type"].startswith("application/problem+json")
    assert generated.json()["request_id"] == generated.headers["x-request-id"]


async def test_openapi_schema_is_served(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/m/v1/auth/code" in paths and "/api/v1/users" in paths
    operation_ids = {
        op["operationId"] for path in paths.values() for op in path.values() if "operationId" in op
    }
    assert {"phoneLogin", "staffLogin", "listAudit", "registerSupervisee"} <= operation_ids


async def test_malformed_json_is_a_problem_naming_the_field(client):
    response = await client.post("/m/v1/auth/code", json={"phone": 12345})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "/problems/invalid-request"
    assert body["errors"][0]["field"] == "phone"


async def test_unknown_field_and_bad_syntax_are_refused(client):
    extra = await client.post("/m/v1/auth/code", json={"phone": "+8613800000009", "admin": True})
    assert extra.status_code == 400
    assert "admin" in extra.json()["detail"]
    garbage = await client.post(
        "/m/v1/auth/code", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 400
    assert garbage.headers["content-type"].startswith("application/problem+json")


async def test_out_of_range_values_name_the_field(client, demo_logins):
    admin = await demo_staff(client, demo_logins, "admin")
    response = await client.get("/api/v1/users", params={"limit": 0}, headers=bearer(admin))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "limit"
    bad_region = await client.post(
        "/api/v1/agencies",
        json={"kind": "police", "name": "X", "region_code": "33A"},
        headers=bearer(admin),
    )
    assert bad_region.status_code == 400
    assert bad_region.json()["errors"][0]["field"] == "region_code"
    bad_kind = await client.post(
        "/api/v1/agencies",
        json={"kind": "army", "name": "X", "region_code": "330100"},
        headers=bearer(admin),
    )
    assert bad_kind.status_code == 422
    assert bad_kind.json()["errors"][0]["field"] == "kind"


async def test_bad_cursor_is_a_422(client, demo_logins):
    admin = await demo_staff(client, demo_logins, "admin")
    response = await client.get("/api/v1/users", params={"cursor": "%%%"}, headers=bearer(admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_cursor_pagination_walks_every_user_once(client, demo_logins):
    admin = await demo_staff(client, demo_logins, "admin")

    async def walk(limit: int) -> list[str]:
        seen, cursor = [], None
        while True:
            params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/v1/users", params=params, headers=bearer(admin))).json()
            seen += [u["id"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    # Pages of 2 and of the largest size walk the same users in the same order (the suite may have made
    # more than one large page of users by now).
    seen = await walk(2)
    assert seen == await walk(200)
    assert len(seen) == len(set(seen)) >= 7

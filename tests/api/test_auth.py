"""401 without or with a revoked token, 403 for a wrong role, 404 for another institution."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.models import ApiToken
from tests.support import builders
from tests.support.builders import bearer


def _setup(session: Session) -> dict[str, str]:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    tokens = {
        "admin": builders.user_token(session, "root", "admin"),
        "h1": builders.user_token(session, "h1", "hospital", "H001"),
        "op": builders.user_token(session, "op", "operator"),
        "acc": builders.user_token(session, "acc", "accountant"),
    }
    session.commit()
    return tokens


def test_missing_unknown_and_revoked_tokens_are_401(client: TestClient, session: Session) -> None:
    tokens = _setup(session)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/me", headers=bearer("flt_nope")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    me = client.get("/api/v1/me", headers=bearer(tokens["h1"])).json()
    assert me == {"name": "h1", "role": "hospital", "fixmedins_code": "H001"}
    token_id = client.get("/api/v1/users/h1/tokens", headers=bearer(tokens["admin"])).json()[0][
        "id"
    ]
    revoked = client.post(f"/api/v1/tokens/{token_id}/revoke", headers=bearer(tokens["admin"]))
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=bearer(tokens["h1"])).status_code == 401


def test_deactivated_user_is_401(client: TestClient, session: Session) -> None:
    tokens = _setup(session)
    assert (
        client.patch(
            "/api/v1/users/op", json={"active": False}, headers=bearer(tokens["admin"])
        ).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=bearer(tokens["op"])).status_code == 401


def test_wrong_role_is_403(client: TestClient, session: Session) -> None:
    tokens = _setup(session)
    body = {"code": "640200", "name": "石嘴山市"}
    assert (
        client.post("/api/v1/regions", json=body, headers=bearer(tokens["h1"])).status_code == 403
    )
    assert (
        client.post("/api/v1/regions", json=body, headers=bearer(tokens["acc"])).status_code == 403
    )
    assert (
        client.post(
            "/api/v1/users", json={"name": "x", "role": "auditor"}, headers=bearer(tokens["op"])
        ).status_code
        == 403
    )
    assert client.get("/api/v1/regions", headers=bearer(tokens["h1"])).status_code == 403


def test_hospital_sees_only_its_own_institution(client: TestClient, session: Session) -> None:
    tokens = _setup(session)
    assert client.get("/api/v1/institutions/H001", headers=bearer(tokens["h1"])).status_code == 200
    other = client.get("/api/v1/institutions/H002", headers=bearer(tokens["h1"]))
    assert other.status_code == 404
    missing = client.get("/api/v1/institutions/H999", headers=bearer(tokens["h1"]))
    assert missing.status_code == 404 and missing.json()["detail"] == other.json()[
        "detail"
    ].replace("H002", "H999")
    listed = client.get("/api/v1/institutions", headers=bearer(tokens["h1"])).json()["items"]
    assert [row["code"] for row in listed] == ["H001"]


def test_admin_creates_users_and_tokens_shown_once(client: TestClient, session: Session) -> None:
    tokens = _setup(session)
    admin = bearer(tokens["admin"])
    created = client.post(
        "/api/v1/users",
        json={"name": "h2", "role": "hospital", "fixmedins_code": "H002"},
        headers=admin,
    )
    assert created.status_code == 201
    bad = client.post("/api/v1/users", json={"name": "h3", "role": "hospital"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "hospital_has_institution"
    issued = client.post("/api/v1/users/h2/tokens", headers=admin).json()
    assert issued["token"].startswith("flt_")
    assert "token" not in client.get("/api/v1/users/h2/tokens", headers=admin).json()[0]
    assert (
        client.get("/api/v1/me", headers=bearer(issued["token"])).json()["fixmedins_code"] == "H002"
    )


def test_tokens_are_never_stored_in_clear(session: Session) -> None:
    tokens = _setup(session)
    stored = session.execute(text("SELECT * FROM api_token")).all()
    dump = repr(stored)
    for token in tokens.values():
        assert token not in dump
        assert token[4:] not in dump
    hashes = set(session.scalars(select(ApiToken.token_hash)))
    assert len(hashes) == len(tokens) and all(len(h) == 64 for h in hashes)

"""``/v1/templates``: CRUD, versions, activation, isolation, compile and render errors,
and the render limits (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from support.harness import Herald

WELCOME = {
    "name": "Welcome",
    "alias": "welcome",
    "subject": "Welcome, {{ first_name }}",
    "html": "<p>Hello {{ first_name }}</p>",
    "text": "Hello {{ first_name }}",
}


async def create(api: AsyncTestClient[Any], headers: dict[str, str], **body: Any) -> Any:
    response = await api.post("/v1/templates", headers=headers, json={**WELCOME, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_crud_versions_activate_and_pagination(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    created = await create(api, tenant.headers)
    tid = created["id"]
    assert created["active_version"] == 1 and created["alias"] == "welcome"

    renamed = await api.patch(f"/v1/templates/{tid}", headers=tenant.headers, json={"name": "Hi"})
    assert renamed.json()["name"] == "Hi" and renamed.json()["active_version"] == 1

    edited = await api.patch(
        f"/v1/templates/{tid}", headers=tenant.headers, json={"subject": "Hi {{ first_name }}!"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["active_version"] == 2
    assert edited.json()["html"] == WELCOME["html"]  # the parts not given are carried over

    versions = (await api.get(f"/v1/templates/{tid}/versions", headers=tenant.headers)).json()
    assert [(v["version"], v["active"]) for v in versions["data"]] == [(2, True), (1, False)]

    rendered = await api.post(
        f"/v1/templates/{tid}/render",
        headers=tenant.headers,
        json={"template_data": {"first_name": "Ann"}},
    )
    assert rendered.json()["subject"] == "Hi Ann!"

    back = await api.post(f"/v1/templates/{tid}/versions/1/activate", headers=tenant.headers)
    assert back.status_code == 200 and back.json()["active_version"] == 1
    again = await api.post(
        f"/v1/templates/{tid}/render",
        headers=tenant.headers,
        json={"template_data": {"first_name": "Ann"}},
    )
    assert again.json() == {
        "subject": "Welcome, Ann",
        "html": "<p>Hello Ann</p>",
        "text": "Hello Ann",
    }
    missing = await api.post(f"/v1/templates/{tid}/versions/9/activate", headers=tenant.headers)
    assert missing.status_code == 404

    for i in range(3):
        await create(api, tenant.headers, alias=f"extra-{i}", name=f"Extra {i}")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/v1/templates", headers=tenant.headers, params=params)).json()
        seen += [t["name"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Extra 2", "Extra 1", "Extra 0", "Hi"]

    taken = await api.post("/v1/templates", headers=tenant.headers, json=WELCOME)
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "alias"

    assert (await api.delete(f"/v1/templates/{tid}", headers=tenant.headers)).status_code == 204
    assert (await api.get(f"/v1/templates/{tid}", headers=tenant.headers)).status_code == 404


async def test_another_accounts_template_is_a_404_and_scopes_are_checked(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    owner = await herald.create_tenant("one.example")
    other = await herald.create_tenant("two.example")
    tid = (await create(api, owner.headers))["id"]
    for method, path, body in (
        ("GET", f"/v1/templates/{tid}", None),
        ("PATCH", f"/v1/templates/{tid}", {"name": "x"}),
        ("DELETE", f"/v1/templates/{tid}", None),
        ("GET", f"/v1/templates/{tid}/versions", None),
        ("POST", f"/v1/templates/{tid}/versions/1/activate", None),
        ("POST", f"/v1/templates/{tid}/render", {"template_data": {"first_name": "x"}}),
    ):
        answer = await api.request(method, path, headers=other.headers, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await api.get("/v1/templates", headers=other.headers)).json()["data"] == []
    # The alias is per account: the other account may use it too.
    assert (await api.post("/v1/templates", headers=other.headers, json=WELCOME)).status_code == 201

    reader = await herald.create_tenant("three.example", scopes=("send", "read"))
    refused = await api.post("/v1/templates", headers=reader.headers, json=WELCOME)
    assert refused.status_code == 403
    assert (await api.get("/v1/templates", headers=reader.headers)).status_code == 200


async def test_compile_errors_name_the_part_and_line(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    bad = await api.post(
        "/v1/templates",
        headers=tenant.headers,
        json={**WELCOME, "html": "<p>\n\n{{ first_name + }}\n</p>", "subject": "{{ x"},
    )
    assert bad.status_code == 422
    errors = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert set(errors) == {"subject", "html"}
    assert errors["html"] == "line 3: unexpected 'end of print statement'"
    assert errors["subject"].startswith("line 1:")

    tid = (await create(api, tenant.headers))["id"]
    broken = await api.patch(
        f"/v1/templates/{tid}", headers=tenant.headers, json={"text": "{% endfor %}"}
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "text"
    versions = (await api.get(f"/v1/templates/{tid}/versions", headers=tenant.headers)).json()
    assert len(versions["data"]) == 1  # a refused edit adds no version

    empty = await api.post(
        "/v1/templates", headers=tenant.headers, json={"name": "n", "subject": "s"}
    )
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "html"


async def render_errors(
    api: AsyncTestClient[Any], headers: dict[str, str], data: dict[str, Any], **parts: str
) -> dict[str, str]:
    body = {"name": "t", "subject": "s", "text": "t"} | parts
    created = await api.post("/v1/templates", headers=headers, json=body)
    assert created.status_code == 201, created.text
    rendered = await api.post(
        f"/v1/templates/{created.json()['id']}/render",
        headers=headers,
        json={"template_data": data},
    )
    assert rendered.status_code == 422, rendered.text
    return {e["field"]: e["message"] for e in rendered.json()["errors"]}


async def test_render_refusals_are_422s_that_say_why(
    herald: Herald, api: AsyncTestClient[Any]
) -> None:
    tenant = await herald.create_tenant()
    h = tenant.headers
    missing = await render_errors(api, h, {"user": {}}, html="<p>{{ user.first_name }}</p>")
    assert missing == {"template_data.user.first_name": "missing"}

    escape = await render_errors(api, h, {}, html="{{ ''.__class__.__mro__ }}")
    assert "unsafe" in escape["html"]
    globals_ = await render_errors(api, h, {}, text="{{ cycler.__init__.__globals__ }}")
    assert "sandbox" in globals_["text"]

    crlf = await render_errors(api, h, {"x": "a\r\nBcc: victim@example.com"}, subject="{{ x }}")
    assert "line break" in crlf["subject"]

    loops = await render_errors(
        api,
        h,
        {},
        html="{% for a in range(200) %}{% for b in range(200) %}{% endfor %}{% endfor %}",
    )
    assert "loops more than" in loops["html"]
    size = await render_errors(api, h, {}, text="{{ 'x' * 100000000 }}")
    assert "exceed" in size["text"]
    wide = await render_errors(
        api, h, {}, text="{% for i in range(9000) %}{{ 'y' * 200 }}{% endfor %}"
    )
    assert "exceed" in wide["text"]
    slow = await render_errors(
        api,
        h,
        {"items": list(range(9000, 0, -1))},
        text="{% for i in items %}{{ items|sort|first }}{% endfor %}",
    )
    assert "longer than" in slow["text"]

    deep = await api.post(
        "/v1/templates",
        headers=h,
        json={"name": "deep", "subject": "{{ a[0].b[0].c }}", "text": "t"},
    )
    fits = {"a": [{"b": [{"c": "four levels"}]}]}
    rendered = await api.post(
        f"/v1/templates/{deep.json()['id']}/render", headers=h, json={"template_data": fits}
    )
    assert rendered.json()["subject"] == "four levels"
    too_deep = await api.post(
        f"/v1/templates/{deep.json()['id']}/render",
        headers=h,
        json={"template_data": {"a": [{"b": [{"c": [1]}]}]}},
    )
    assert too_deep.status_code == 400
    assert too_deep.json()["errors"][0]["field"].startswith("template_data")

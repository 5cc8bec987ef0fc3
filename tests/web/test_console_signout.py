"""Signing out of the console ends the session on the server: a copy of the cookie taken
before (another browser, a proxy's log) is refused afterwards, as if never signed in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from adapters.web.session import SESSION_COOKIE
from storage.tables import ConsoleSessionRow

from .conftest import ADMIN, LEE, Console


def _cookie(web: Console) -> str:
    found = web.client.session.cookie_jar.filter_cookies(web.client.make_url("/console/"))
    return found[SESSION_COOKIE].value


async def _with_cookie(web: Console, cookie: str, path: str = "/console/escalations") -> tuple[int, str]:
    response = await web.client.get(path, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, allow_redirects=False)
    return response.status, response.headers.get("Location", "")


async def test_a_copied_cookie_is_refused_after_sign_out(web: Console) -> None:
    await web.sign_in(ADMIN)
    copied = _cookie(web)
    csrf = await web.csrf("/console/")
    web.sign_out_locally()
    assert await _with_cookie(web, copied) == (200, "")  # the copy works while signed in
    await web.sign_in(ADMIN)
    response = await web.post("/console/signout", {}, from_page="/console/")
    assert response.status == 302 and response.headers["Location"] == "/console/signin"
    # The session signed out was the second one; the copy of the first still works ...
    assert await _with_cookie(web, copied) == (200, "")
    # ... until that one signs out too, from wherever it is.
    response = await web.client.post(
        "/console/signout", data={"csrf": csrf}, headers={"Cookie": f"{SESSION_COOKIE}={copied}"}, allow_redirects=False
    )
    assert response.status == 302
    status, location = await _with_cookie(web, copied, "/console/escalations")
    assert status == 302 and location.startswith("/console/signin?next=/console/escalations")
    refused = await web.client.post(
        "/console/signout", data={"csrf": csrf}, headers={"Cookie": f"{SESSION_COOKIE}={copied}"}, allow_redirects=False
    )
    assert refused.status == 403 and "session has ended" in await refused.text()


async def test_signing_out_ends_only_that_session(web: Console) -> None:
    await web.sign_in(LEE)
    first = _cookie(web)
    web.sign_out_locally()
    await web.sign_in(LEE)  # the same person in a second browser
    second = _cookie(web)
    assert first != second
    await web.post("/console/signout", {}, from_page="/console/")
    assert (await _with_cookie(web, second))[0] == 302
    assert await _with_cookie(web, first) == (200, "")


async def test_a_session_the_server_never_started_or_that_expired_is_refused(web: Console) -> None:
    await web.sign_in(ADMIN)
    cookie = _cookie(web)
    async with web.runtime.store.unit_of_work() as uow:
        [row] = (await uow.session.execute(select(ConsoleSessionRow))).scalars().all()
        assert row.person == ADMIN.key and row.ended_at is None
        assert row.expires_at == web.clock.now() + web.console.config.session_ttl
        # A database restored from before the sign-in, or a cookie forged with a leaked key.
        await uow.session.execute(delete(ConsoleSessionRow))
    assert (await _with_cookie(web, cookie))[0] == 302
    await web.sign_in(ADMIN)
    web.clock.advance(web.console.config.session_ttl + timedelta(seconds=1))
    assert (await _with_cookie(web, _cookie(web)))[0] == 302

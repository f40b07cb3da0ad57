"""The fake server itself, spoken to with raw HTTP: routing, safety, call log, injections."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from crmconf.testing import FakeData, FakeTwentyFour

ACTION = "http://24sevenOffice.com/webservices/"
COMPANY = "/CRM/Company/V001/CompanyService.asmx"
AUTH = "/authenticate/v001/authenticate.asmx"


def _envelope(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    ).encode()


def _post(
    fake: FakeTwentyFour, path: str, operation: str, inner: str, **headers: str
) -> requests.Response:
    all_headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{ACTION}{operation}"',
    }
    all_headers.update(headers)
    return requests.post(fake.url + path, data=_envelope(inner), headers=all_headers, timeout=5)


def _login(fake: FakeTwentyFour) -> str:
    env = fake.env()
    reply = _post(
        fake,
        AUTH,
        "Login",
        '<Login xmlns="http://24sevenOffice.com/webservices"><credential>'
        f"<ApplicationId>{env['CRMCONF_24SO_APPLICATION_ID']}</ApplicationId>"
        f"<Password>{env['CRMCONF_24SO_PASSWORD']}</Password>"
        f"<Username>{env['CRMCONF_24SO_USERNAME']}</Username>"
        "</credential></Login>",
    )
    assert reply.status_code == 200
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("ASP.NET_SessionId=")
    return cookie.split(";", 1)[0].split("=", 1)[1]


def test_login_issues_a_session_cookie_that_unlocks_the_services(fake: FakeTwentyFour) -> None:
    session_id = _login(fake)
    inner = '<GetStatuses xmlns="http://24sevenOffice.com/webservices"/>'

    without = _post(fake, COMPANY, "GetStatuses", inner)
    with_cookie = _post(
        fake, COMPANY, "GetStatuses", inner, Cookie=f"ASP.NET_SessionId={session_id}"
    )

    assert without.status_code == 500 and b"Not authenticated" in without.content
    assert with_cookie.status_code == 200 and b"<Value>Customer</Value>" in with_cookie.content
    assert [c.outcome for c in fake.calls] == ["ok", "unauthenticated", "ok"]


def test_paths_are_case_insensitive_like_iis(fake: FakeTwentyFour) -> None:
    reply = _post(
        fake,
        AUTH.upper(),
        "HasSession",
        '<HasSession xmlns="http://24sevenOffice.com/webservices"/>',
    )
    assert reply.status_code == 200 and b"<HasSessionResult>false<" in reply.content


def test_unknown_path_wrong_action_and_wrong_media_type(fake: FakeTwentyFour) -> None:
    inner = '<GetStatuses xmlns="http://24sevenOffice.com/webservices"/>'
    assert _post(fake, "/nowhere.asmx", "GetStatuses", inner).status_code == 404
    wrong_action = _post(fake, AUTH, "GetStatuses", inner)  # company op on the auth service
    assert wrong_action.status_code == 500
    assert b"did not recognize the value of HTTP Header SOAPAction" in wrong_action.content
    soap12 = _post(fake, COMPANY, "GetStatuses", inner, **{"Content-Type": "application/soap+xml"})
    assert soap12.status_code == 415
    assert requests.get(fake.url + COMPANY, timeout=5).status_code == 405


def test_doctype_and_entities_are_refused(fake: FakeTwentyFour) -> None:
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<HasSession xmlns="http://24sevenOffice.com/webservices">&e;</HasSession>'
        b"</soap:Body></soap:Envelope>"
    )
    reply = requests.post(
        fake.url + AUTH,
        data=payload,
        timeout=5,
        headers={"Content-Type": "text/xml", "SOAPAction": f'"{ACTION}HasSession"'},
    )
    assert reply.status_code == 500
    assert b"DTDs are not allowed" in reply.content
    assert b"root:" not in reply.content


def test_call_log_tells_reads_from_writes(fake: FakeTwentyFour) -> None:
    session = f"ASP.NET_SessionId={_login(fake)}"
    _post(
        fake,
        COMPANY,
        "GetCategories",
        '<GetCategories xmlns="http://24sevenOffice.com/webservices"/>',
        Cookie=session,
    )
    _post(
        fake,
        COMPANY,
        "SaveCategories",
        '<SaveCategories xmlns="http://24sevenOffice.com/webservices"><categories>'
        "<Category><Name>New</Name><ShowContact>true</ShowContact>"
        "<ShowCompany>false</ShowCompany></Category></categories></SaveCategories>",
        Cookie=session,
    )

    assert [c.kind for c in fake.calls] == ["auth", "read", "write"]
    assert fake.count(kind="write") == 1 and fake.count("GetCategories") == 1
    assert [c.operation for c in fake.write_calls()] == ["SaveCategories"]
    assert fake.data.categories[4].name == "New"
    fake.reset_calls()
    assert fake.calls == []


def test_injections_are_validated(fake: FakeTwentyFour) -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        fake.inject_fault(operation="DeleteCompanies")
    with pytest.raises(ValueError, match="count"):
        fake.drop_connections(count=0)
    with pytest.raises(ValueError, match="status"):
        fake.inject_http_error(200)


def test_injections_apply_to_the_next_n_matching_calls_only(fake: FakeTwentyFour) -> None:
    fake.inject_http_error(503, count=2, operation="HasSession")
    inner = '<HasSession xmlns="http://24sevenOffice.com/webservices"/>'
    statuses = [_post(fake, AUTH, "HasSession", inner).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    fake.inject_fault("boom", count=None)
    fake.clear_injections()
    assert _post(fake, AUTH, "HasSession", inner).status_code == 200


def test_start_stop_and_custom_data() -> None:
    data = FakeData()
    data.add_category("Only")
    server = FakeTwentyFour(data=data)
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    server.start()  # idempotent
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.data.categories[1].name == "Only"
    finally:
        server.stop()
        server.stop()


def test_latency_on_every_call_and_round_trips_tell_sequential_from_concurrent(
    fake: FakeTwentyFour,
) -> None:
    fake.inject_latency(0.05, count=None)  # every operation, until cleared
    inner = '<HasSession xmlns="http://24sevenOffice.com/webservices"/>'
    for _ in range(3):
        _post(fake, AUTH, "HasSession", inner)
    assert fake.round_trips() == 3 and fake.most_in_flight == 1

    fake.reset_calls()
    assert fake.round_trips() == 0
    fake.clear_injections()
    fake.inject_latency(0.3, count=None)  # long enough for all four to be in flight at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(
            pool.map(lambda _: _post(fake, AUTH, "HasSession", inner).status_code, "abcd")
        )
    assert statuses == [200] * 4
    assert fake.count("HasSession") == 4
    assert fake.round_trips() == 1 and fake.most_in_flight == 4

    _post(fake, AUTH, "HasSession", inner)  # after all four were answered
    assert fake.round_trips() == 2


def test_held_reads_pass_together_or_wait_out_the_timeout(fake: FakeTwentyFour) -> None:
    session_id = _login(fake)
    inner = '<GetStatuses xmlns="http://24sevenOffice.com/webservices"/>'
    cookie = f"ASP.NET_SessionId={session_id}"
    fake.hold_reads_until(3, timeout=0.4)

    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(
            pool.map(lambda _: _post(fake, COMPANY, "GetStatuses", inner, Cookie=cookie), range(3))
        )
    assert [reply.status_code for reply in together] == [200, 200, 200]
    assert fake.most_in_flight == 3

    fake.clear_injections()
    fake.reset_calls()
    fake.hold_reads_until(2, timeout=0.4)
    started = time.monotonic()
    alone = _post(fake, COMPANY, "GetStatuses", inner, Cookie=cookie)
    assert alone.status_code == 200
    assert time.monotonic() - started >= 0.4  # held until the timeout, then answered
    assert fake.most_in_flight == 1


def test_large_accounts_are_generated_quickly() -> None:
    data = FakeData.sample()
    started = time.monotonic()

    data.add_companies(100_000)

    assert time.monotonic() - started < 5.0
    assert len(data.companies) == 100_012 and max(data.companies) == 110_012
    assert {c.industry_id for c in data.companies.values()} == set(data.industries)

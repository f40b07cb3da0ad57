"""TwentyFourClient against the fake server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import ssl
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from crmconf.errors import TargetError
from crmconf.targets.twentyfour import (
    Category,
    ClientInformation,
    CompanyUpdate,
    TwentyFourApiError,
    TwentyFourClient,
    credentials_from_env,
)
from crmconf.targets.twentyfour.retry import RetryLog
from crmconf.testing import FakeTwentyFour

from .support import ClientFactory

# ---- login and the session cookie ---------------------------------------------------------


def test_logs_in_lazily_and_sends_the_session_cookie_on_every_service(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    assert fake.calls == []  # constructing a client sends nothing

    client.categories()
    client.users()
    client.identities()

    assert fake.operations() == ["Login", "GetCategories", "GetUsers", "GetIdentities"]
    [session_id] = fake.session_ids
    after_login = fake.calls[1:]
    assert {c.service for c in after_login} == {"company", "client", "auth"}
    assert all(c.session_cookie == session_id and c.session_valid for c in after_login)
    assert fake.calls[0].session_cookie is None  # Login itself carries no stale cookie
    assert client.stats.logins == 1


def test_has_session_is_false_before_login_and_true_after(client: TwentyFourClient) -> None:
    assert client.has_session() is False
    client.login()
    assert client.has_session() is True


def test_expired_session_is_renewed_once_transparently(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.categories()
    fake.expire_sessions()

    assert [c.name for c in client.categories()] == ["VIP", "Partner", "Newsletter"]

    assert fake.operations() == [
        "Login",
        "GetCategories",
        "GetCategories",
        "HasSession",
        "Login",
        "GetCategories",
    ]
    assert [c.outcome for c in fake.calls][2] == "unauthenticated"
    assert client.stats.session_renewals == 1


def test_session_renewal_is_attempted_only_once(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.expire_sessions()
    fake.inject_fault("still broken", operation="GetCategories", count=None)

    with pytest.raises(TargetError, match="still broken"):
        client.categories()

    assert fake.count("Login") == 2
    assert fake.count("GetCategories") == 2


def test_fault_with_a_live_session_is_reported_without_relogin_or_retry(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.inject_fault(
        "Object reference not set to an instance of an object.", operation="GetStatuses"
    )

    with pytest.raises(TargetError) as caught:
        client.statuses()

    message = str(caught.value)
    assert "GetStatuses" in message and "SOAP fault" in message and "\n" not in message
    assert fake.count("GetStatuses") == 1
    assert fake.count("Login") == 1
    assert fake.count("HasSession") == 1  # the probe that told the session is fine
    assert client.stats.retries == 0


def test_bad_credentials_are_a_target_error_without_retry(
    make_client: ClientFactory, fake: FakeTwentyFour
) -> None:
    client = make_client(env={"CRMCONF_24SO_PASSWORD": "wrong"})

    with pytest.raises(TargetError, match="refused the login"):
        client.categories()

    assert fake.operations() == ["Login"]
    assert fake.calls[0].outcome == "login_failed"


def test_unknown_identity_is_refused(client: TwentyFourClient) -> None:
    with pytest.raises(TargetError, match="identity"):
        client.set_identity("99999999-9999-4999-8999-999999999999")


def test_identities_and_switching(client: TwentyFourClient) -> None:
    identities = client.identities()
    assert [i.client_name for i in identities] == ["Demo AS", "Demo Sandbox AS"]
    assert [i.is_current for i in identities] == [True, False]

    client.set_identity(identities[1].id)

    assert [i.is_current for i in client.identities()] == [False, True]


# ---- reads ---------------------------------------------------------------------------------


def test_reads_return_plain_values(client: TwentyFourClient) -> None:
    assert client.industries()[:2] == [(1, "Consulting"), (2, "Retail")]
    assert client.statuses()[0] == (1, "Lead")
    categories = client.categories()
    assert categories[0] == Category(id=1, name="VIP", show_company=True, show_contact=True)

    groups = client.crm_groups()
    sales = groups[0]
    assert (sales.name, sales.type) == ("Sales", 1)
    assert [c.name for c in sales.children] == ["Sales Oslo", "Sales Bergen"]
    assert sales.children[1].type is None  # xsi:nil
    assert sales.members[0].role_name == "Manager"

    users = client.users()
    assert users[0].name == "Kari Nordmann" and users[0].contact_id == 101
    assert users[2].employee_id is None


def test_companies_come_page_by_page(fake: FakeTwentyFour, client: TwentyFourClient) -> None:
    pages = list(client.company_pages(page_size=5))

    assert [len(p) for p in pages] == [5, 5, 2]
    first = pages[0][0]
    assert (first.id, first.name, first.industry_id, first.status) == (10001, "Company 01 AS", 2, 2)
    # one light listing of ids, then one request per page
    assert fake.count("GetCompanies") == 1 + 3


def test_plan_style_reads_make_no_write_calls(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.categories()
    client.industries()
    client.statuses()
    client.crm_groups()
    client.users()
    client.companies()

    assert fake.write_calls() == []
    assert fake.count(kind="read") == 7


# ---- writes --------------------------------------------------------------------------------


def test_save_categories_creates_and_updates_in_one_call(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    saved = client.save_categories(
        [
            Category(id=None, name="Events", show_company=False, show_contact=True),
            Category(id=2, name="Partners", show_company=True, show_contact=True),
        ]
    )

    assert saved[0].id is not None and saved[0].name == "Events"
    assert saved[1] == Category(id=2, name="Partners", show_company=True, show_contact=True)
    assert fake.data.categories[2].name == "Partners"
    assert fake.count("SaveCategories") == 1


def test_five_hundred_category_changes_are_one_save_call(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    changes = [Category(None, f"Category {n}", True, False) for n in range(500)]

    saved = client.save_categories(changes)

    assert len(saved) == 500
    assert fake.count("SaveCategories") == 1
    assert len(fake.write_calls()) == 1


def test_save_companies_in_batches(fake: FakeTwentyFour, client: TwentyFourClient) -> None:
    updates = [CompanyUpdate(id=10000 + n, industry_id=4) for n in range(1, 13)]

    saved = client.save_companies(updates, batch_size=5)

    assert saved == [u.id for u in updates]
    assert fake.count("SaveCompanies") == 3
    assert {c.industry_id for c in fake.data.companies.values()} == {4}


def test_company_update_sends_only_the_fields_to_change(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    before = fake.data.companies[10003]
    industry = before.industry_id

    client.save_companies([CompanyUpdate(id=10003, status=4)])

    assert (before.status, before.industry_id) == (4, industry)
    body = fake.write_calls()[0].request_body
    assert b"IndustryId" not in body and b"Name" not in body


# ---- transient failures and retries ----------------------------------------------------------


def test_http_5xx_is_retried_with_backoff_then_succeeds(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.inject_http_error(503, count=2, operation="GetCategories")

    assert len(client.categories()) == 3

    assert fake.count("GetCategories") == 3
    assert client.stats.retries == 2
    assert client.stats.requests["GetCategories"] == 3


def test_retries_are_bounded(fake: FakeTwentyFour, make_client: ClientFactory) -> None:
    client = make_client(retries=2)
    client.login()
    fake.inject_http_error(502, count=None, operation="GetIndustries")

    with pytest.raises(TargetError, match=r"HTTP 502.*gave up after 3 attempts"):
        client.industries()

    assert fake.count("GetIndustries") == 3


def test_backoff_delays_grow(fake: FakeTwentyFour, make_client: ClientFactory) -> None:
    delays: list[float] = []
    client = make_client(retries=3, sleep=delays.append, rng=lambda: 0.0)
    client.login()
    fake.inject_http_error(500, count=None, operation="GetStatuses")

    with pytest.raises(TargetError):
        client.statuses()

    assert delays == sorted(delays) and len(delays) == 3 and delays[0] < delays[-1]


def test_4xx_is_not_retried(fake: FakeTwentyFour, client: TwentyFourClient) -> None:
    client.login()
    fake.inject_http_error(400, count=None, operation="GetStatuses")

    with pytest.raises(TargetError, match="HTTP 400"):
        client.statuses()

    assert fake.count("GetStatuses") == 1


def test_dropped_connection_on_a_read_is_retried(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.drop_connections(count=1, operation="GetIndustries")

    assert client.industries()

    assert [c.outcome for c in fake.calls if c.operation == "GetIndustries"] == ["dropped", "ok"]


def test_timeout_is_retried(fake: FakeTwentyFour, make_client: ClientFactory) -> None:
    client = make_client(timeout=0.3)
    client.login()
    fake.inject_latency(1.0, count=1, operation="GetStatuses")

    assert client.statuses()

    assert fake.count("GetStatuses") == 2


def test_creating_write_is_not_repeated_when_it_may_have_arrived(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.drop_connections(count=1, operation="SaveCategories")

    with pytest.raises(TargetError, match="not retried"):
        client.save_categories([Category(None, "Once", True, True)])

    assert fake.count("SaveCategories") == 1
    assert "Once" not in {c.name for c in fake.data.categories.values()}


def test_update_only_write_is_retried(fake: FakeTwentyFour, client: TwentyFourClient) -> None:
    client.login()
    fake.inject_http_error(503, count=1, operation="SaveCompanies")

    assert client.save_companies([CompanyUpdate(id=10001, status=1)]) == [10001]

    assert fake.count("SaveCompanies") == 2


# ---- APIException entries ------------------------------------------------------------------


def test_api_exception_in_save_companies_is_a_target_error_listing_failures(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    fake.inject_api_exception("Company is locked", company_id=10002)
    before = fake.data.companies[10002].status

    with pytest.raises(TwentyFourApiError) as caught:
        client.save_companies([CompanyUpdate(10001, status=3), CompanyUpdate(10002, status=3)])

    error = caught.value
    assert isinstance(error, TargetError)
    assert "company 10002" in str(error) and "Company is locked" in str(error)
    assert [f.company_id for f in error.failures] == [10002]
    assert error.saved_ids == (10001,)
    assert fake.data.companies[10002].status == before
    assert fake.data.companies[10001].status == 3


def test_server_side_validation_comes_back_as_api_exception(client: TwentyFourClient) -> None:
    with pytest.raises(TwentyFourApiError, match="Unknown IndustryId 99"):
        client.save_companies([CompanyUpdate(10001, industry_id=99)])


def test_api_exception_in_get_companies_is_a_target_error(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    fake.inject_api_exception("Search failed", operation="GetCompanies")

    with pytest.raises(TargetError, match=r"GetCompanies.*Search failed"):
        client.companies()


# ---- unreachable, TLS, configuration -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_port_fails_fast(make_client: ClientFactory) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{_free_port()}", retries=2)

    started = time.monotonic()
    with pytest.raises(TargetError, match="cannot connect"):
        client.categories()

    assert time.monotonic() - started < 3
    assert client.stats.requests["Login"] == 3  # refused connections are safe to retry


def test_tls_failure_is_a_target_error_and_not_retried(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    # The fake speaks plain HTTP, so a TLS handshake with it fails.
    client = make_client(base_url=fake.url.replace("http://", "https://"))

    with pytest.raises(TargetError, match="TLS"):
        client.categories()

    assert client.stats.retries == 0


@pytest.mark.parametrize(
    "url",
    ["http://api.24sevenoffice.com", "ftp://127.0.0.1", "https://user:pw@example.com", "nonsense"],
)
def test_insecure_or_odd_base_urls_are_refused(make_client: ClientFactory, url: str) -> None:
    with pytest.raises(TargetError, match="base URL"):
        make_client(base_url=url)


def test_creating_write_that_timed_out_is_not_repeated(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    client = make_client(timeout=0.3)
    client.login()
    fake.inject_latency(1.0, operation="SaveCategories")

    with pytest.raises(TargetError, match=r"not arrive completely within 0.3 s.*may have been"):
        client.save_categories([Category(None, "Slow", True, True)])

    # It did arrive: retrying would have created "Slow" twice.
    assert [c.name for c in fake.data.categories.values()].count("Slow") == 1
    assert fake.count("SaveCategories") == 1


# ---- what one answer may cost -----------------------------------------------------------------


def test_gzip_answers_are_read(fake: FakeTwentyFour, client: TwentyFourClient) -> None:
    fake.gzip_answers = True

    assert len(client.categories()) == 3

    assert fake.count("GetCategories") == 1


def test_an_answer_inflating_past_the_limit_is_refused_without_holding_it(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    client = make_client(max_answer_bytes=1024 * 1024)
    client.login()
    # ~70 KB on the wire, 64 MiB inflated.
    fake.inflate_answers(64 * 1024 * 1024, count=None, operation="GetCategories")
    tracemalloc.start()
    try:
        with pytest.raises(TargetError, match="larger than 1 MB once decompressed") as caught:
            client.categories()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 16 * 1024 * 1024
    assert "retry" not in str(caught.value) and fake.count("GetCategories") == 1


def test_an_answer_within_the_limit_may_inflate(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    client = make_client(max_answer_bytes=8 * 1024 * 1024)
    client.login()
    fake.inflate_answers(4 * 1024 * 1024, operation="GetCategories")

    assert len(client.categories()) == 3


def test_a_trickling_answer_is_bounded_by_the_timeout_as_a_whole(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    client = make_client(timeout=1.0, retries=0)
    client.login()
    # Each byte comes well within the 1 s per-read timeout; the answer would take minutes.
    fake.trickle_answers(0.05, count=None, operation="GetStatuses")
    started = time.monotonic()

    with pytest.raises(TargetError, match=r"did not arrive completely within 1 s"):
        client.statuses()

    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("operation", ["GetStatuses", "GetCompanies"])
def test_a_trickling_status_line_and_headers_are_bounded_by_the_timeout_too(
    fake: FakeTwentyFour, make_client: ClientFactory, operation: str
) -> None:
    client = make_client(timeout=1.0, retries=0)
    client.login()
    # Not even the status line arrives in time: a byte every 100 ms, each well within the
    # per-read timeout, so the head alone would take seconds (and a real server, hours).
    fake.trickle_answers(0.1, count=None, operation=operation, from_status_line=True)
    read = client.statuses if operation == "GetStatuses" else client.company_assignments
    started = time.monotonic()

    with pytest.raises(TargetError, match=r"did not arrive completely within 1 s"):
        read()

    assert time.monotonic() - started < 2.0


# A self-signed certificate for 127.0.0.1 (valid until 2126), made for these tests only.
TLS = Path(__file__).parent / "tls"


@pytest.fixture
def tls_fake() -> Iterator[FakeTwentyFour]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    with FakeTwentyFour(tls=context) as server:
        yield server


@pytest.mark.parametrize("from_status_line", [True, False], ids=["head", "body"])
def test_over_https_a_trickling_answer_is_cut_off_at_the_timeout_too(
    tls_fake: FakeTwentyFour, from_status_line: bool
) -> None:
    # The real service is https only: the deadline shuts a TLS connection just as well.
    with TwentyFourClient(
        tls_fake.url,
        credentials_from_env(tls_fake.env()),
        timeout=1.0,
        retries=0,
        verify=str(TLS / "cert.pem"),
    ) as client:
        assert client.statuses()  # TLS itself works
        tls_fake.trickle_answers(
            0.1, count=None, operation="GetStatuses", from_status_line=from_status_line
        )
        started = time.monotonic()

        with pytest.raises(TargetError, match=r"did not arrive completely within 1 s"):
            client.statuses()

        assert time.monotonic() - started < 2.0


def test_retries_of_one_kind_are_said_once_then_summed_up(
    fake: FakeTwentyFour, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    shared = RetryLog()
    first, second = make_client(retry_log=shared), make_client(retry_log=shared)
    first.login()
    second.login()
    caplog.set_level(logging.WARNING)

    fake.inject_http_error(503, count=2, operation="GetStatuses")
    assert first.statuses()
    fake.inject_http_error(503, count=2, operation="GetStatuses")
    assert second.statuses()
    shared.report()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "24SevenOffice GetStatuses: HTTP 503 without a SOAP answer; retrying (at most 3 times)",
        "24SevenOffice: 2 request(s) retried, 4 retries in all; 2 succeeded on a retry, 0 gave up",
    ]


def test_retry_after_seconds_is_honoured(fake: FakeTwentyFour, make_client: ClientFactory) -> None:
    delays: list[float] = []
    client = make_client(sleep=delays.append)
    client.login()
    fake.inject_http_error(503, operation="GetStatuses", retry_after="7")

    assert client.statuses()

    assert delays == [7.0]


def test_retry_after_as_an_http_date_is_honoured(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    delays: list[float] = []
    client = make_client(sleep=delays.append)
    client.login()
    when = datetime.now(UTC) + timedelta(seconds=20)
    fake.inject_http_error(429, operation="GetStatuses", retry_after=format_datetime(when, True))

    assert client.statuses()

    (delay,) = delays
    assert 15.0 <= delay <= 20.0


def test_a_retry_after_longer_than_crmconf_waits_ends_the_run(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    delays: list[float] = []
    client = make_client(sleep=delays.append)
    client.login()
    fake.inject_http_error(503, operation="GetStatuses", retry_after="3600")

    with pytest.raises(TargetError, match=r"asks to wait 3600 s.*run again later"):
        client.statuses()

    assert delays == [] and fake.count("GetStatuses") == 1


def test_a_503_on_a_creating_write_is_retried(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.inject_http_error(503, count=2, operation="SaveCategories")

    (saved,) = client.save_categories([Category(None, "Once", True, True)])

    assert saved.id is not None and fake.count("SaveCategories") == 3
    assert [c.name for c in fake.data.categories.values()].count("Once") == 1


def test_client_information_names_the_identity_in_use(client: TwentyFourClient) -> None:
    assert client.client_information() == ClientInformation("Demo AS", "912345678")

    client.set_identity("11111111-2222-4333-8444-666666666666")

    assert client.client_information() == ClientInformation("Demo Sandbox AS", "987654321")


# ---- the streamed company listing -------------------------------------------------------------


def test_company_assignments_are_streamed_with_the_three_fields(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    fake.gzip_answers = True

    companies = client.company_assignments()

    expected = sorted(fake.data.companies.values(), key=lambda c: c.id)
    assert [(c.id, c.name, c.industry_id, c.status) for c in companies] == [
        (c.id, None, c.industry_id, c.status) for c in expected
    ]
    (call,) = [c for c in fake.calls if c.operation == "GetCompanies"]
    assert call.outcome == "ok"
    assert b"<ns0:string>Id</ns0:string><ns0:string>IndustryId</ns0:string>" in call.request_body


def test_company_assignments_report_api_exceptions(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    fake.inject_api_exception("Access denied", error_type="Auth", operation="GetCompanies")

    with pytest.raises(
        TwentyFourApiError, match=r"GetCompanies: 1 of 13 item.*Auth: Access denied"
    ):
        client.company_assignments()


def test_company_assignments_survive_an_expired_session_and_a_503(
    fake: FakeTwentyFour, client: TwentyFourClient
) -> None:
    client.login()
    fake.expire_sessions()
    fake.inject_http_error(503, operation="GetCompanies")

    assert len(client.company_assignments()) == 12

    assert client.stats.session_renewals == 1 and client.stats.retries == 1


def test_a_fault_in_the_streamed_listing_is_one_line(
    fake: FakeTwentyFour, make_client: ClientFactory
) -> None:
    client = make_client(retries=0)
    client.login()
    fake.inject_fault("Object reference not set", operation="GetCompanies")

    with pytest.raises(TargetError, match="GetCompanies: the service returned a SOAP fault"):
        client.company_assignments()

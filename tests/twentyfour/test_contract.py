"""Contract tests: what the client sends and what the fake answers obey the VENDOR's WSDLs.

The vendor files live outside the repository (shared/vendor/24sevenoffice);
without them these tests skip. Our own WSDLs must describe the same wire
format but must not be copies of the vendor's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from crmconf.errors import TargetError
from crmconf.targets.twentyfour import Category, CompanyUpdate, TwentyFourClient
from crmconf.targets.twentyfour.transport import AUTH, CLIENT, COMPANY
from crmconf.testing import CallRecord, FakeTwentyFour

from .support import FAST_BACKOFF
from .wsdl_facts import ServiceFacts, read_wsdl

OURS = Path(__file__).resolve().parents[2] / "crmconf" / "targets" / "twentyfour" / "wsdl"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

# service (as the fake names it) -> (our WSDL, the vendor's WSDL)
FILES = {
    "auth": ("auth.wsdl", "authService.wsdl"),
    "company": ("company.wsdl", "companyService.wsdl"),
    "client": ("client.wsdl", "clientService.wsdl"),
}
# SHA-256 of the vendor's files, so the "not a copy" check runs even without them.
VENDOR_SHA256 = {
    "78d7b9b60ef37afa7b653462d91794609f98e8df64c7354c52b059d540448986",  # authService.wsdl
    "7153694389e5324f69662e2e27efc5292f7ad1f3faff37dc0e1b2205a9d565ec",  # clientService.wsdl
    "0ddc0da5a893dae8b5842587124b4d53fc7808c27ee8c1ef1f06fc92040fa491",  # companyService.wsdl
    "103254c14f3e86bba6907a3534087a1779866e1c21cca4c0df26632c4139049b",  # personService.wsdl
}
ALL_OPERATIONS = {
    "Login",
    "HasSession",
    "GetIdentities",
    "SetIdentityById",
    "GetCategories",
    "SaveCategories",
    "GetIndustries",
    "GetStatuses",
    "GetCRMGroups",
    "GetCompanies",
    "SaveCompanies",
    "GetUsers",
    "GetClientInformation",
    "GetCompanySyncList",
}


@cache
def _vendor_facts(folder: Path, service: str) -> tuple[ServiceFacts, xmlschema.XMLSchema]:
    facts = read_wsdl(folder / FILES[service][1])
    return facts, facts.schema()


@pytest.fixture(scope="module")
def exchanges() -> Iterator[list[CallRecord]]:
    """Every request/answer of a session that uses every operation, failures included."""
    with FakeTwentyFour() as fake:
        client = TwentyFourClient.from_env(fake.env(), backoff=FAST_BACKOFF, timeout=2.0)
        client.has_session()
        client.login()
        client.has_session()
        identities = client.identities()
        client.set_identity(identities[-1].id)
        client.set_identity(identities[0].id)
        client.categories()
        client.save_categories(
            [Category(None, "Events", True, False), Category(1, "VIP clients", True, True)]
        )
        client.industries()
        client.statuses()
        client.crm_groups()
        client.users()
        client.client_information()
        fake.data.delete_company(10005)
        fake.data.sync_page_size = 5
        list(client.company_sync_list(active=None))
        list(client.company_sync_list(active=False))
        list(client.company_pages(page_size=4))
        client.company_assignments()  # the streamed listing: a request built without zeep
        client.save_companies(
            [CompanyUpdate(10001, industry_id=3, status=2), CompanyUpdate(10002, status=1)]
        )
        fake.inject_api_exception("Locked", company_id=10003)
        with pytest.raises(TargetError):
            client.save_companies([CompanyUpdate(10003, status=1)])
        fake.expire_sessions()
        client.categories()  # fault, HasSession=false, Login, retry
        fake.inject_fault("boom", operation="GetStatuses")
        with pytest.raises(TargetError):
            client.statuses()
        client.close()
        yield fake.calls


def test_scenario_uses_every_operation(exchanges: list[CallRecord]) -> None:
    assert {c.operation for c in exchanges} == ALL_OPERATIONS
    assert {c.outcome for c in exchanges} >= {"ok", "fault", "unauthenticated", "api_exception"}


def _body_child(payload: bytes) -> etree._Element:
    root = etree.fromstring(payload, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{SOAP_ENV}}}Envelope", "not a SOAP 1.1 envelope"
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    elements: list[etree._Element] = list(body)
    assert len(elements) == 1
    return elements[0]


def _errors(schema: xmlschema.XMLSchema, element: etree._Element) -> list[str]:
    return [str(e.reason) for e in schema.iter_errors(etree.tostring(element).decode())]


def test_every_request_matches_the_vendor_contract(
    exchanges: list[CallRecord], vendor_dir: Path
) -> None:
    for call in exchanges:
        facts, schema = _vendor_facts(vendor_dir, call.service)
        operation = facts.operations[call.operation]
        assert call.path == facts.path, call.operation
        assert call.soap_action == operation.soap_action, call.operation
        assert call.content_type.startswith("text/xml"), call.operation
        element = _body_child(call.request_body)
        assert element.tag == operation.input_element, call.operation
        assert _errors(schema, element) == [], call.operation


def test_every_response_matches_the_vendor_contract(
    exchanges: list[CallRecord], vendor_dir: Path
) -> None:
    for call in exchanges:
        facts, schema = _vendor_facts(vendor_dir, call.service)
        element = _body_child(call.response_body)
        if call.status == 500:
            # SOAP 1.1 fault: unqualified faultcode and faultstring.
            assert element.tag == f"{{{SOAP_ENV}}}Fault", call.operation
            assert element.findtext("faultcode") and element.findtext("faultstring")
            continue
        assert call.status == 200, call.operation
        assert element.tag == facts.operations[call.operation].output_element, call.operation
        assert _errors(schema, element) == [], call.operation


def test_our_wsdls_describe_the_vendor_wire_format(vendor_dir: Path) -> None:
    specs = {"auth": AUTH, "company": COMPANY, "client": CLIENT}
    for service, (ours_name, _) in FILES.items():
        ours = read_wsdl(OURS / ours_name)
        vendor, _ = _vendor_facts(vendor_dir, service)
        assert ours.path == vendor.path == specs[service].path
        for name, operation in ours.operations.items():
            assert operation == vendor.operations[name], name
    covered = {name for file, _ in FILES.values() for name in read_wsdl(OURS / file).operations}
    assert covered == ALL_OPERATIONS


def test_our_wsdls_are_not_copies_of_the_vendors() -> None:
    for ours_name, _ in FILES.values():
        digest = hashlib.sha256((OURS / ours_name).read_bytes()).hexdigest()
        assert digest not in VENDOR_SHA256, ours_name


def test_our_wsdls_differ_byte_for_byte_from_the_vendor_files(vendor_dir: Path) -> None:
    vendor_files = [p.read_bytes() for p in sorted(vendor_dir.glob("*.wsdl"))]
    assert vendor_files
    for ours_name, _ in FILES.values():
        ours = (OURS / ours_name).read_bytes()
        assert all(ours != theirs for theirs in vendor_files), ours_name
        # Not a copy with cosmetic edits either: only the operations crmconf uses.
        assert b"DeleteCompanies" not in ours and b"AuthenticateByToken" not in ours

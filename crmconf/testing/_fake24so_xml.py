"""SOAP 1.1 envelopes for the fake 24SevenOffice server: safe parsing and rendering.

Incoming XML is parsed with entity expansion, DTD loading and network access
switched off, and any document that declares a DOCTYPE is refused outright,
so a test cannot be used to smuggle XXE or entity-expansion payloads.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from lxml import etree

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XSD: Final = "http://www.w3.org/2001/XMLSchema"
NS: Final = "http://24sevenOffice.com/webservices"
ACTION_PREFIX: Final = NS + "/"

# .NET's markers for "not set" in the API's value types.
INT_NOT_SET: Final = -2147483648
DATE_NOT_SET: Final = dt.datetime(1, 1, 1)


class SoapFault(Exception):
    """Raised by an operation to answer with a SOAP 1.1 Fault (HTTP 500)."""

    def __init__(self, message: str, code: str = "soap:Server") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_body(payload: bytes) -> etree._Element:
    """The single element inside soap:Body; SoapFault (soap:Client) when malformed."""
    if b"<!DOCTYPE" in payload:
        raise SoapFault("DTDs are not allowed in requests", "soap:Client")
    try:
        root = etree.fromstring(payload, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"Request is not well-formed XML: {exc.msg}", "soap:Client") from None
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]  # stubs lack it
        raise SoapFault("DTDs are not allowed in requests", "soap:Client")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("Request is not a SOAP 1.1 envelope", "soap:Client")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    elements = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(elements) != 1:
        raise SoapFault("soap:Body must hold exactly one element", "soap:Client")
    return elements[0]


def envelope(body_child: etree._Element) -> bytes:
    nsmap = {"soap": SOAP_ENV, "xsi": XSI, "xsd": XSD}
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    body.append(body_child)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def response(operation: str, children: list[etree._Element]) -> bytes:
    wrapper = etree.Element(f"{{{NS}}}{operation}Response", nsmap={None: NS})  # type: ignore[dict-item]
    wrapper.extend(children)
    return envelope(wrapper)


def fault(error: SoapFault) -> bytes:
    node = etree.Element(f"{{{SOAP_ENV}}}Fault")
    # faultcode/faultstring are unqualified in SOAP 1.1.
    etree.SubElement(node, "faultcode").text = error.code
    etree.SubElement(node, "faultstring").text = error.message
    etree.SubElement(node, "detail")
    return envelope(node)


# ---- building -------------------------------------------------------------------------------


def el(
    name: str, text: str | int | bool | dt.datetime | None = None, *children: etree._Element
) -> etree._Element:
    """An element in the API namespace; Python values become their XML Schema text."""
    node = etree.Element(f"{{{NS}}}{name}")
    if text is not None:
        node.text = xml_text(text)
    node.extend(children)
    return node


def nil(name: str) -> etree._Element:
    node = etree.Element(f"{{{NS}}}{name}")
    node.set(f"{{{XSI}}}nil", "true")
    return node


def xml_text(value: str | int | bool | dt.datetime) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)


# ---- reading --------------------------------------------------------------------------------


def child(node: etree._Element, name: str) -> etree._Element | None:
    return node.find(f"{{{NS}}}{name}")


def children(node: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if node is None else node.findall(f"{{{NS}}}{name}")


def text(node: etree._Element, name: str) -> str | None:
    found = child(node, name)
    if found is None or found.get(f"{{{XSI}}}nil") == "true":
        return None
    return found.text or ""


def int_value(node: etree._Element, name: str) -> int | None:
    """An int field, None when absent or int.MinValue ("not set")."""
    raw = text(node, name)
    if raw is None:
        return None
    try:
        number = int(raw.strip())
    except ValueError:
        raise SoapFault(f"{name} is not a valid int: {raw!r}", "soap:Client") from None
    return None if number == INT_NOT_SET else number


def bool_value(node: etree._Element, name: str) -> bool | None:
    raw = text(node, name)
    if raw is None:
        return None
    if raw.strip() in ("true", "1"):
        return True
    if raw.strip() in ("false", "0"):
        return False
    raise SoapFault(f"{name} is not a valid boolean: {raw!r}", "soap:Client")


def datetime_value(node: etree._Element, name: str) -> dt.datetime | None:
    """A dateTime field as naive UTC, None when absent or 0001-01-01 ("not set")."""
    raw = text(node, name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SoapFault(f"{name} is not a valid dateTime: {raw!r}", "soap:Client") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return None if value == DATE_NOT_SET else value

"""Read the facts that matter for the wire out of a WSDL file.

Used on the vendor's WSDLs (the reference) and on crmconf's own (the copy
under test) alike: per operation its SOAPAction and body element names, per
service its path, plus an XML Schema built from the embedded schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import xmlschema
from lxml import etree

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class OperationFacts:
    name: str
    soap_action: str
    input_element: str  # Clark notation: {namespace}local
    output_element: str


@dataclass(frozen=True)
class ServiceFacts:
    path: str
    operations: dict[str, OperationFacts]
    schema_sources: tuple[str, ...]

    def schema(self) -> xmlschema.XMLSchema:
        return xmlschema.XMLSchema(list(self.schema_sources))


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


def _qname(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{node.nsmap[prefix or None]}}}{local}"


def read_wsdl(path: Path) -> ServiceFacts:
    root = _parse(path)
    messages = {
        m.get("name"): _qname(part, part.get("element", ""))
        for m in root.iterfind(f"{{{WSDL}}}message")
        for part in m.iterfind(f"{{{WSDL}}}part")
    }
    port_ops: dict[str, tuple[str, str]] = {}
    for op in root.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation"):
        in_msg = op.find(f"{{{WSDL}}}input")
        out_msg = op.find(f"{{{WSDL}}}output")
        assert in_msg is not None and out_msg is not None
        port_ops[op.get("name", "")] = (
            messages[_qname(in_msg, in_msg.get("message", "")).split("}")[1]],
            messages[_qname(out_msg, out_msg.get("message", "")).split("}")[1]],
        )
    operations: dict[str, OperationFacts] = {}
    for binding in root.iterfind(f"{{{WSDL}}}binding"):
        if binding.find(f"{{{SOAP11}}}binding") is None:
            continue  # the SOAP 1.2 binding: crmconf speaks 1.1
        for op in binding.iterfind(f"{{{WSDL}}}operation"):
            soap_op = op.find(f"{{{SOAP11}}}operation")
            assert soap_op is not None
            name = op.get("name", "")
            operations[name] = OperationFacts(name, soap_op.get("soapAction", ""), *port_ops[name])
    address = root.find(f"{{{WSDL}}}service/{{{WSDL}}}port/{{{SOAP11}}}address")
    assert address is not None
    schemas = tuple(
        etree.tostring(s, encoding="unicode")
        for s in root.iterfind(f"{{{WSDL}}}types/{{{XSD}}}schema")
    )
    return ServiceFacts(urlsplit(address.get("location", "")).path, operations, schemas)

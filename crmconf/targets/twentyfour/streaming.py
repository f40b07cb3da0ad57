"""The light GetCompanies listing, parsed as it arrives instead of through zeep.

Usage counts and customer moves need three integers per company (Id,
IndustryId, Status), of every company in the account, in one unpaged answer.
zeep builds a Python object per element; at 50,000 companies that cost 20×
the CPU and 3.6× the memory of parsing the same bytes with lxml (issue 14).
Here lxml's pull parser is fed each chunk as it comes off the socket; after
every chunk the companies parsed so far are read and freed, so neither the
document tree nor the answer's bytes are held.

Reading them is the cost that is left, so it is done in C where it can be:
compiled XPath expressions return one field's texts for a whole chunk of
companies as one list, `map(int, …)` converts it, and the result is three
columns (CompanyAssignments), not an object per company. That is exact only
for companies of the plain shape (each field at most once and holding only
text, nothing else below a company), which `_ColumnReader` checks first; a
chunk with anything else (an APIException entry, a comment, a field of spaces
or not a number) is read company by company in Python, the reference for
what every field means. tests/twentyfour/test_streaming.py checks that both
agree, whatever the answer holds and wherever its chunks end.

Only this one answer is parsed here; everything else goes through zeep and
crmconf's WSDLs. The request is the same document/literal message zeep sends
(checked against the vendor's WSDL by the contract tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Final, cast

from lxml import etree
from zeep.exceptions import Fault

from crmconf.errors import TargetError

from .mapping import INT_NOT_SET
from .models import ApiFailure, CompanyAssignments
from .transport import NAMESPACE

_SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
_RESULT: Final = f"{{{NAMESPACE}}}GetCompaniesResult"
_COMPANY: Final = f"{{{NAMESPACE}}}Company"
_FIELDS: Final = ("Id", "IndustryId", "Status")
# Where each field read goes: Id, IndustryId, Status.
_POSITIONS: Final = {f"{{{NAMESPACE}}}{name}": index for index, name in enumerate(_FIELDS)}
_API_EXCEPTION: Final = f"{{{NAMESPACE}}}APIException"
_TYPE: Final = f"{{{NAMESPACE}}}Type"
_MESSAGE: Final = f"{{{NAMESPACE}}}Message"

Columns = tuple[list[int], list[int | None], list[int | None]]


def listing_request(changed_after: str, properties: Iterable[str]) -> bytes:
    """The GetCompanies envelope asking for `properties` of companies changed after a date."""
    envelope = etree.Element(f"{{{_SOAP_ENV}}}Envelope", nsmap={"soap-env": _SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{_SOAP_ENV}}}Body")
    operation = etree.SubElement(body, f"{{{NAMESPACE}}}GetCompanies", nsmap={"ns0": NAMESPACE})
    search = etree.SubElement(operation, f"{{{NAMESPACE}}}searchParams")
    etree.SubElement(search, f"{{{NAMESPACE}}}ChangedAfter").text = changed_after
    wanted = etree.SubElement(operation, f"{{{NAMESPACE}}}returnProperties")
    for name in properties:
        etree.SubElement(wanted, f"{{{NAMESPACE}}}string").text = name
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


class CompanyListing:
    """Feed the answer's bytes in, then close; `assignments` and `failures` are the result."""

    def __init__(self) -> None:
        # The same hardening as zeep's settings: no DTD, no entities, nothing fetched.
        # Events only for the result list (to hold it) and a fault's two texts.
        self._parser = etree.XMLPullParser(
            events=("start", "end"),
            tag=(_RESULT, "faultcode", "faultstring"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        self._columns = _ColumnReader()
        self._result: etree._Element | None = None
        self._result_ended = False
        self._fault: dict[str, str] = {}
        self._ids: list[int] = []
        self._industry_ids: list[int | None] = []
        self._statuses: list[int | None] = []
        self.failures: list[ApiFailure] = []

    @property
    def assignments(self) -> CompanyAssignments:
        """The companies read so far, in the answer's order."""
        return CompanyAssignments(
            tuple(self._ids), tuple(self._industry_ids), tuple(self._statuses)
        )

    def feed(self, chunk: bytes) -> None:
        self._parser.feed(chunk)
        self._drain()

    def close(self) -> None:
        """Finish parsing; raise zeep's Fault if the answer was a SOAP fault."""
        self._parser.close()
        self._drain()
        if self._fault:
            raise Fault(  # type: ignore[no-untyped-call]
                self._fault.get("faultstring") or "no message", self._fault.get("faultcode")
            )

    def _drain(self) -> None:
        for event, element in self._parser.read_events():
            if not isinstance(element, etree._Element):
                continue  # only "start" and "end" events are asked for: always elements
            if element.tag == _RESULT:
                self._result = element
                self._result_ended = event == "end"
            elif event == "end":
                self._fault[str(element.tag)] = element.text or ""
        if self._result is not None and len(self._result):
            self._read_companies(self._result)

    def _read_companies(self, result: etree._Element) -> None:
        """Read the complete companies below `result`, then drop them from the tree."""
        last = result[-1]
        # The last child may still be being parsed: it stays (freeing it would pull the
        # node from under the parser) and is read after the next chunk.
        keep_last = not self._result_ended and isinstance(last.tag, str)
        still_open = last if keep_last and last.tag == _COMPANY else None
        complete = len(result) - keep_last
        try:
            ids, industry_ids, statuses = self._columns.read(result, still_open)
        except _NotPlain:
            for element in islice(result, complete):
                if element.tag == _COMPANY:
                    self._company(element)
        else:
            self._ids.extend(ids)
            self._industry_ids.extend(industry_ids)
            self._statuses.extend(statuses)
        del result[:complete]

    def _company(self, element: etree._Element) -> None:
        """One company, read in Python: the meaning of every field, for any shape."""
        values: list[str | None] = [None, None, None]
        failure: etree._Element | None = None
        for child in element:
            position = _POSITIONS.get(child.tag)
            if position is not None:
                values[position] = child.text
            elif child.tag == _API_EXCEPTION:
                failure = child
        company_id = _int(values[0])
        if failure is not None:
            self.failures.append(
                ApiFailure(
                    company_id=company_id,
                    type=failure.findtext(_TYPE) or "",
                    message=failure.findtext(_MESSAGE) or "",
                )
            )
            return
        if company_id is None:
            raise TargetError("24SevenOffice returned a company without an Id")
        self._ids.append(company_id)
        self._industry_ids.append(_int(values[1]))
        self._statuses.append(_int(values[2]))


class _NotPlain(Exception):
    """Some company of the chunk is not of the plain shape: read them one by one."""


class _ColumnReader:
    """The three fields of all the companies below a GetCompaniesResult, read in C.

    The expressions run over every company there, the one still being parsed
    included; what it contributed is left out. One instance per listing: lxml
    serialises concurrent use of one XPath object.
    """

    def __init__(self) -> None:
        self._count = _xpath("count(t:Company)")
        # The plain shape: no field twice (the texts of two companies could pair up
        # wrongly), and below a company only the fields, each holding one text node
        # and nothing else (the number of elements and of nodes below the companies
        # equals that of the fields' texts; the company still being parsed may end
        # in a field whose text has not arrived: `open_field`).
        self._plain = _xpath(
            "not(t:Company/t:Id[2] or t:Company/t:IndustryId[2] or t:Company/t:Status[2])"
            " and count(t:Company/*) = $texts + $open_field"
            " and count(t:Company/*/node()) = $texts"
        )
        self._texts = [_xpath(f"t:Company/t:{name}/text()") for name in _FIELDS]
        # For a field some companies lack: its text, or the company itself where it has
        # none, so the list holds one entry per company, in document order.
        self._texts_or_companies = [
            _xpath(f"t:Company/t:{name}/text() | t:Company[not(t:{name}/text())]")
            for name in _FIELDS
        ]

    def read(self, result: etree._Element, still_open: etree._Element | None) -> Columns:
        """Each field's values, one per complete company (the Id never None), or _NotPlain."""
        complete = int(cast(float, self._count(result))) - (still_open is not None)
        texts = [cast(list[str], expression(result)) for expression in self._texts]
        # What the company still being parsed holds so far: the fields it has a text of
        # (their texts end the lists), and whether it ends in a field without one.
        open_texts: set[int] = set()
        open_field = 0
        if still_open is not None:
            for child in still_open:
                position = _POSITIONS.get(child.tag)
                if position is not None and child.text is not None:
                    open_texts.add(position)
            if len(still_open):
                last = still_open[-1]
                open_field = int(last.tag in _POSITIONS and last.text is None)
        if not self._plain(result, texts=sum(map(len, texts)), open_field=open_field):
            raise _NotPlain
        ids, industry_ids, statuses = (
            self._column(index, result, column, complete, index in open_texts)
            for index, column in enumerate(texts)
        )
        if None in ids:
            raise _NotPlain  # a company without an Id: _company reports it
        return cast(list[int], ids), industry_ids, statuses

    def _column(
        self, index: int, result: etree._Element, texts: list[str], complete: int, open_text: bool
    ) -> list[int | None]:
        """The field's values of the `complete` companies (the one being parsed left out)."""
        try:
            if len(texts) - open_text == complete:  # each complete company has this field
                values: list[int | None] = list(map(int, texts[:complete]))
            else:
                found = cast(list[str | etree._Element], self._texts_or_companies[index](result))
                values = [int(v) if isinstance(v, str) else None for v in found[:complete]]
        except ValueError:
            raise _NotPlain from None  # spaces only, or not a number: _int decides
        if INT_NOT_SET in values:
            values = [None if value == INT_NOT_SET else value for value in values]
        return values


def _xpath(expression: str) -> etree.XPath:
    # Plain strings, not lxml's "smart" ones that keep a reference to their element.
    return etree.XPath(expression, namespaces={"t": NAMESPACE}, smart_strings=False)


def _int(text: str | None) -> int | None:
    if not text:
        return None
    try:
        number = int(text)  # int() accepts the surrounding whitespace XML may carry
    except ValueError:
        if text.isspace():
            return None
        raise TargetError("24SevenOffice returned a company field that is not a number") from None
    return None if number == INT_NOT_SET else number

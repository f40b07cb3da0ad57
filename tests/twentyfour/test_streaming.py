"""The streamed GetCompanies listing (streaming.py) against a plain reading of the whole answer.

The listing reads plain chunks of companies with XPath in C and anything else
company by company; whatever the answer holds and wherever its chunks end, the
result must be what reading the finished document element by element gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from crmconf.errors import TargetError
from crmconf.targets.twentyfour.models import ApiFailure
from crmconf.targets.twentyfour.streaming import CompanyListing, _ColumnReader, _NotPlain
from crmconf.targets.twentyfour.transport import NAMESPACE
from tests.strategies import profile

_NOT_SET = "-2147483648"
_FIELDS = ("Id", "IndustryId", "Status")


def _answer(companies: list[str], *, separator: str = "") -> bytes:
    """A GetCompanies answer as the service (and the fake) sends it, around `companies`."""
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><GetCompaniesResponse xmlns="{NAMESPACE}"><GetCompaniesResult>'
        + separator
        + separator.join(companies)
        + "</GetCompaniesResult></GetCompaniesResponse></soap:Body></soap:Envelope>"
    ).encode()


def _plain(company_id: int, industry_id: int | str, status: int | str) -> str:
    return (
        f"<Company><Id>{company_id}</Id><Status>{status}</Status>"
        f"<IndustryId>{industry_id}</IndustryId></Company>"
    )


@dataclass
class _Read:
    rows: list[tuple[int, int | None, int | None]]
    failures: list[ApiFailure]


def _reference(document: bytes) -> _Read | str:
    """The finished document read element by element, as the README describes the fields.

    A field is its last element's text: none, empty or only spaces → None, as is
    int.MinValue; anything else must be a number. An entry with an APIException is
    a failure (of its Id, if any); a company without an Id is an error, said before
    its other fields are read. Returns the error's message.
    """
    result = etree.fromstring(document).find(f".//{{{NAMESPACE}}}GetCompaniesResult")
    assert result is not None
    read = _Read([], [])
    for company in result.iterchildren(f"{{{NAMESPACE}}}Company"):
        texts: dict[str, str | None] = {}
        failure = None
        for child in company.iterchildren("*"):
            name = etree.QName(child).localname
            if name in _FIELDS:
                texts[name] = child.text
            elif name == "APIException":
                failure = child
        try:
            company_id = _number(texts.get("Id"))
            if failure is not None:  # only its Id is read
                read.failures.append(
                    ApiFailure(
                        company_id,
                        failure.findtext(f"{{{NAMESPACE}}}Type") or "",
                        failure.findtext(f"{{{NAMESPACE}}}Message") or "",
                    )
                )
                continue
            if company_id is None:
                return "24SevenOffice returned a company without an Id"
            industry_id, status = _number(texts.get("IndustryId")), _number(texts.get("Status"))
        except ValueError:
            return "24SevenOffice returned a company field that is not a number"
        read.rows.append((company_id, industry_id, status))
    return read


def _number(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    number = int(text)
    return None if number == int(_NOT_SET) else number


def _streamed(document: bytes, cuts: list[int]) -> _Read | str:
    listing = CompanyListing()
    start = 0
    try:
        for end in [*sorted(cuts), len(document)]:
            listing.feed(document[start:end])
            start = end
        listing.close()
    except TargetError as error:
        return str(error)
    read = listing.assignments
    return _Read(
        list(zip(read.ids, read.industry_ids, read.statuses, strict=True)), listing.failures
    )


# What a field may hold: mostly numbers (so chunks of plain companies occur), and every
# text the reading must treat as the reference does.
_values = st.one_of(
    st.integers(-5, 10**7).map(str),
    st.sampled_from(
        [
            *(_NOT_SET, " 12 ", "\n7\t", "", "   ", "x", "1,2", "1 2", "1_000", "+5", "&#51;4"),
            *("<![CDATA[8]]>", "1<![CDATA[2]]>", "1<!-- note -->2", "<!-- note -->3", "<b>4</b>"),
        ]
    ),
)
_children = st.one_of(
    st.tuples(st.sampled_from(_FIELDS), _values).map(lambda f: f"<{f[0]}>{f[1]}</{f[0]}>"),
    st.sampled_from(_FIELDS).map(lambda name: f"<{name}/>"),
    st.just("<Name>Acme &amp; Co</Name>"),
    st.just("<!-- inside a company -->"),
    st.just("<APIException><Type>Auth</Type><Message>Access denied</Message></APIException>"),
)
_regular = st.builds(
    _plain, st.integers(1, 10**6), st.integers(1, 9), st.sampled_from(["1", "2", _NOT_SET])
)
_irregular = st.lists(_children, max_size=5).map(lambda c: "<Company>" + "".join(c) + "</Company>")
_companies = st.lists(
    st.one_of(
        *(_regular, _regular, _regular, _irregular),
        st.sampled_from(["<!-- between -->", "<Note><Id>77</Id> not a company </Note>"]),
    ),
    max_size=30,
)


@profile(slice_examples=200)
@given(
    companies=_companies,
    separator=st.sampled_from(["", "\n  "]),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
)
def test_any_answer_cut_anywhere_reads_as_the_whole_document(
    companies: list[str], separator: str, cuts: list[int]
) -> None:
    document = _answer(companies, separator=separator)
    cuts = [cut for cut in cuts if cut <= len(document)]

    assert _streamed(document, cuts) == _reference(document)


@pytest.mark.parametrize(
    "companies",
    [
        [_plain(i, 1 + i % 4, 1 + i % 3) for i in range(1, 8)],
        [_plain(1, 2, 3), "<Company><Id>2</Id></Company>", _plain(3, _NOT_SET, 1)],
        [_plain(1, " 2 ", 3), "<Company><Id>2</Id><IndustryId/><Status>4</Status></Company>"],
    ],
    ids=["plain", "fields-missing", "empty-field"],
)
def test_every_cut_of_a_small_answer_reads_the_same(companies: list[str]) -> None:
    document = _answer(companies, separator="\n")
    expected = _reference(document)

    for cut in range(len(document) + 1):
        assert _streamed(document, [cut]) == expected, f"cut at byte {cut}"
    assert _streamed(document, list(range(len(document)))) == expected  # a byte at a time


def _result_of(companies: list[str]) -> etree._Element:
    result = etree.fromstring(_answer(companies)).find(f".//{{{NAMESPACE}}}GetCompaniesResult")
    assert result is not None
    return result


def test_plain_companies_are_read_as_columns_in_one_pass() -> None:
    companies = [_plain(i, 1 + i % 4, _NOT_SET if i % 5 == 0 else 2) for i in range(1, 3001)]
    companies.append("<Company><Id>4000</Id></Company>")  # fields left out: still plain

    ids, industry_ids, statuses = _ColumnReader().read(_result_of(companies), None)

    assert ids == [*range(1, 3001), 4000]
    assert industry_ids == [1 + i % 4 for i in range(1, 3001)] + [None]
    assert statuses == [None if i % 5 == 0 else 2 for i in range(1, 3001)] + [None]


@pytest.mark.parametrize(
    "company",
    [
        "<Company><Id>9</Id><APIException><Type>A</Type><Message>B</Message></APIException>"
        "</Company>",
        "<Company><Id>9</Id><Id>10</Id></Company>",
        "<Company><Id>9</Id><Status/></Company>",
        "<Company><Id>9</Id><Name>Acme</Name></Company>",
        "<Company><Id>9<!-- c --></Id></Company>",
        "<Company><Id>9</Id><Status> </Status></Company>",
        "<Company><Id>9</Id><Status>x</Status></Company>",
        "<Company><IndustryId>1</IndustryId></Company>",
        f"<Company><Id>{_NOT_SET}</Id></Company>",
    ],
    ids=[
        "api-exception",
        "field-twice",
        "empty-field",
        "other-field",
        "comment-in-field",
        "spaces-only",
        "not-a-number",
        "no-id",
        "id-not-set",
    ],
)
def test_a_company_of_another_shape_sends_the_chunk_to_the_reading_in_python(
    company: str,
) -> None:
    with pytest.raises(_NotPlain):
        _ColumnReader().read(_result_of([_plain(1, 2, 3), company]), None)

"""The 24SevenOffice SOAP target: credentials, the typed client and its plain data types."""

from .client import TwentyFourClient
from .credentials import Credentials, Secret, credentials_from_env
from .failures import TwentyFourApiError
from .models import (
    ApiFailure,
    CallStats,
    Category,
    ClientInformation,
    Company,
    CompanyAssignments,
    CompanyUpdate,
    CrmGroup,
    GroupMember,
    Identity,
    User,
)
from .retry import Backoff

__all__ = [
    "ApiFailure",
    "Backoff",
    "CallStats",
    "Category",
    "ClientInformation",
    "Company",
    "CompanyAssignments",
    "CompanyUpdate",
    "Credentials",
    "CrmGroup",
    "GroupMember",
    "Identity",
    "Secret",
    "TwentyFourApiError",
    "TwentyFourClient",
    "User",
    "credentials_from_env",
]

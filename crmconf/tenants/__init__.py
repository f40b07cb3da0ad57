"""Many client companies from one repository: the project file and running every tenant."""

from crmconf.tenants.project import Project, Tenant, load_project
from crmconf.tenants.runner import Outcome, load_tenant_config, open_tenant_target, run_all

__all__ = [
    "Outcome",
    "Project",
    "Tenant",
    "load_project",
    "load_tenant_config",
    "open_tenant_target",
    "run_all",
]

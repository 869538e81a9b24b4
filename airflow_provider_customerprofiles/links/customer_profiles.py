"""
Console links for Customer Profiles resources, shown as extra links on task instances.

Customer Profiles lives inside the Amazon Connect console. AWS documents the console's entry
point (``https://console.aws.amazon.com/connect/``) but not its deep links, so the paths below
follow the console's own routing as best we can tell and may need adjusting if AWS changes it.
"""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink

_CUSTOMER_PROFILES_CONSOLE = BASE_AWS_CONSOLE_LINK + "/connect/customerprofiles/home?region={region_name}#"


class CustomerProfilesDomainLink(BaseAwsLink):
    """Link to a Customer Profiles domain in the AWS console."""

    name = "Customer Profiles Domain"
    key = "customer_profiles_domain"
    format_str = _CUSTOMER_PROFILES_CONSOLE + "/domains/{domain_name}"


class CustomerProfilesWorkflowLink(BaseAwsLink):
    """Link to an integration workflow of a Customer Profiles domain in the AWS console."""

    name = "Customer Profiles Integration Workflow"
    key = "customer_profiles_workflow"
    format_str = _CUSTOMER_PROFILES_CONSOLE + "/domains/{domain_name}/workflows/{workflow_id}"


class CustomerProfilesIdentityResolutionLink(BaseAwsLink):
    """Link to a domain's identity-resolution (matching) page in the AWS console."""

    name = "Customer Profiles Identity Resolution"
    key = "customer_profiles_identity_resolution"
    format_str = _CUSTOMER_PROFILES_CONSOLE + "/domains/{domain_name}/identity-resolution"

"""The one hook every operator, sensor and trigger of this provider uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

# Operations that return NextToken but have no boto3 paginator, mapped to the
# response field that holds their items. One generic loop serves them all.
UNPAGINATED_LIST_FIELDS: dict[str, str] = {
    "get_matches": "Matches",
    "list_identity_resolution_jobs": "IdentityResolutionJobsList",
    "list_workflows": "Items",
    "get_workflow_steps": "Items",
    "search_profiles": "Items",
    "list_profile_objects": "Items",
    "list_domains": "Items",
    "list_integrations": "Items",
    "list_profile_object_types": "Items",
    "list_profile_object_type_templates": "Items",
    "list_account_integrations": "Items",
}


class CustomerProfilesHook(AwsGenericHook):
    """
    Interact with Amazon Connect Customer Profiles through boto3.

    Uses Airflow's ``aws`` connection. To reach the local Customer Profiles
    service instead of AWS, set the connection extra ``endpoint_url`` or
    ``service_config: {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"}}``.

    Additional arguments (such as ``aws_conn_id``, ``region_name``, ``verify`` and
    ``config``) are passed to
    :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsGenericHook`.
    """

    hook_name = "Amazon Connect Customer Profiles"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "customer-profiles"
        super().__init__(*args, **kwargs)

    @cached_property
    def waiter_path(self) -> os.PathLike[str] | None:
        """Our own waiter model: the base class only looks inside the Amazon provider."""
        return Path(__file__).parents[1] / "waiters" / "customer-profiles.json"

    def iterate_items(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """
        Yield every item of a list operation that boto3 cannot paginate.

        ``operation`` is the boto3 method name (for example ``"get_matches"``);
        ``kwargs`` are its arguments. Pages are requested lazily, one at a time.
        """
        for page in self.iterate_pages(operation, **kwargs):
            yield from page.get(UNPAGINATED_LIST_FIELDS[operation], [])

    def iterate_pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield each raw response page of ``operation``, following ``NextToken``."""
        if operation not in UNPAGINATED_LIST_FIELDS:
            raise ValueError(
                f"{operation!r} is not one of the NextToken operations this hook pages: "
                f"{sorted(UNPAGINATED_LIST_FIELDS)}"
            )
        call = getattr(self.conn, operation)
        kwargs.pop("NextToken", None)
        token: str | None = None
        while True:
            page = call(**kwargs, **({"NextToken": token} if token else {}))
            page.pop("ResponseMetadata", None)
            yield page
            token = page.get("NextToken")
            if not token:
                return

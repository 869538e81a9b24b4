"""Apache Airflow provider for Amazon Connect Customer Profiles."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

DISTRIBUTION_NAME = "airflow-provider-customerprofiles"


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""
    return {
        "package-name": DISTRIBUTION_NAME,
        "name": "Amazon Connect Customer Profiles",
        "description": "Operators, sensors, triggers and transfers for Amazon Connect Customer Profiles.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Amazon Connect Customer Profiles",
                "external-doc-url": "https://docs.aws.amazon.com/customerprofiles/latest/APIReference/",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Amazon Connect Customer Profiles",
                "python-modules": ["airflow_provider_customerprofiles.hooks.customer_profiles"],
            }
        ],
        "connection-types": [],
    }

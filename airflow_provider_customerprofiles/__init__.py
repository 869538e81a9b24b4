"""Apache Airflow provider for Amazon Connect Customer Profiles."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

DISTRIBUTION_NAME = "airflow-provider-customerprofiles"
INTEGRATION = "Amazon Connect Customer Profiles"


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""
    return {
        "package-name": DISTRIBUTION_NAME,
        "name": INTEGRATION,
        "description": "Operators, sensors, triggers and transfers for Amazon Connect Customer Profiles.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://docs.aws.amazon.com/customerprofiles/latest/APIReference/",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_provider_customerprofiles.hooks.customer_profiles"],
            }
        ],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_provider_customerprofiles.operators.customer_profiles"],
            }
        ],
        "sensors": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_provider_customerprofiles.sensors.customer_profiles"],
            }
        ],
        "triggers": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_provider_customerprofiles.triggers.customer_profiles"],
            }
        ],
        "extra-links": [
            "airflow_provider_customerprofiles.links.customer_profiles.CustomerProfilesDomainLink",
            "airflow_provider_customerprofiles.links.customer_profiles.CustomerProfilesWorkflowLink",
            "airflow_provider_customerprofiles.links.customer_profiles.CustomerProfilesIdentityResolutionLink",
        ],
        "transfers": [
            {
                "source-integration-name": "Apache Parquet",
                "target-integration-name": INTEGRATION,
                "python-module": "airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles",
            },
            {
                "source-integration-name": INTEGRATION,
                "target-integration-name": "Amazon Simple Storage Service (S3)",
                "python-module": "airflow_provider_customerprofiles.transfers.matches_to_parquet",
            },
            {
                "source-integration-name": INTEGRATION,
                "target-integration-name": "Amazon Simple Storage Service (S3)",
                "python-module": "airflow_provider_customerprofiles.transfers.identity_resolution_results_to_parquet",
            },
            {
                "source-integration-name": INTEGRATION,
                "target-integration-name": "Common SQL",
                "python-module": "airflow_provider_customerprofiles.transfers.matches_to_sql",
            },
        ],
        "connection-types": [],
        "config": {
            "customer_profiles": {
                "description": "Settings for Amazon Connect Customer Profiles loads.",
                "options": {
                    "ingest_state_uri": {
                        "description": (
                            "Base location of the Parquet loads' checkpoints (``<base>/checkpoints``) and dead\n"
                            "letters (``<base>/dead_letters``), unless a task passes its own. Under a distributed\n"
                            "executor (Celery, Kubernetes ...) every worker must reach it, so use an ``s3://`` URI:\n"
                            "a retry on another worker then resumes from the checkpoint. Empty: a local directory,\n"
                            "``$AIRFLOW_HOME/customer_profiles_ingest``, which only the LocalExecutor accepts.\n"
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "s3://my-bucket/airflow/customer_profiles_ingest",
                        "default": None,
                    },
                    "local_state_is_shared": {
                        "description": (
                            "Set to True when a local checkpoint or dead-letter path is on storage that every\n"
                            "worker mounts at the same path (NFS, EFS), so a distributed executor may use it.\n"
                        ),
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    },
                },
            }
        },
    }

"""
Snapshot sync: send only the rows whose unique key is new or whose object changed since the service last accepted it.

The state (see :mod:`.state`) holds, per unique key, a keyed hash of the key and a
fingerprint of the object JSON; no key or value in clear. The loader asks it for a
:class:`~.plan.SyncPlan` (which rows are unchanged), stages what the service accepted
per finished row range, and commits a new state generation at the end of a successful run.
"""

from airflow_provider_customerprofiles.ingest.sync.lease import LeaseHeldError
from airflow_provider_customerprofiles.ingest.sync.state import SyncState

__all__ = ["LeaseHeldError", "SyncState"]

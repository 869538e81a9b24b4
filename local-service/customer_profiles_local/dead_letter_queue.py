"""
Sends objects that cannot be attached to a profile to the domain's ``DeadLetterQueueUrl`` (an SQS queue).

AWS documents the queue ("The URL of the SQS dead letter queue, which is used for reporting errors
associated with ingesting data"; CreateDomain reference) and, for an object that matches no profile
where ``AllowProfileCreation`` is false, that it "is written to the domain dead-letter queue"
(admin guide, "Object type mapping definition details"). It documents no message body. The local
service's body is its own choice, one JSON object a message:

``{"DomainName", "ObjectTypeName", "ProfileObjectUniqueKey", "Object", "ErrorCode", "Message",
"Timestamp"}``: the object string as it was put (so a consumer can fix and re-put it), a code
(``NO_MATCHING_PROFILE``, ``AMBIGUOUS_PROFILE_MATCH``) and a message naming keys, never values.

The object holds customer data: it goes to the queue the domain names and nowhere else (never a log).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)
# The local service signs SQS requests with fixed dummy keys: it targets moto or a local SQS stand-in.
_DUMMY_KEY = "local-customer-profiles"


@dataclass(frozen=True)
class DeadLetter:
    """One object the service could not attach, and why (without customer data in ``message``)."""

    domain_name: str
    object_type_name: str
    unique_key: str
    object_text: str
    error_code: str
    message: str
    at: dt.datetime

    def body(self) -> str:
        return json.dumps(
            {
                "DomainName": self.domain_name,
                "ObjectTypeName": self.object_type_name,
                "ProfileObjectUniqueKey": self.unique_key,
                "Object": self.object_text,
                "ErrorCode": self.error_code,
                "Message": self.message,
                "Timestamp": self.at.astimezone(dt.timezone.utc).isoformat(),
            }
        )


def send(endpoint_url: str | None, region: str, queue_url: str, letter: DeadLetter) -> bool:
    """Send one dead letter; False (logged without the object) when SQS is not configured or refuses it."""
    if not endpoint_url:
        log.warning("domain %s has a dead-letter queue but the service has no SQS endpoint", letter.domain_name)
        return False
    client = boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=_DUMMY_KEY,
        aws_secret_access_key=_DUMMY_KEY,
        config=Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 2}),
    )
    try:
        client.send_message(QueueUrl=queue_url, MessageBody=letter.body())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "an error")
        log.warning("dead-letter queue of domain %s answered %s", letter.domain_name, code)
        return False
    except BotoCoreError as exc:
        log.warning("dead-letter queue of domain %s unreachable (%s)", letter.domain_name, type(exc).__name__)
        return False
    return True

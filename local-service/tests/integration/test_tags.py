"""Tags addressed by ARN, where the parity suite cannot go: workflows, integrations, other Regions, reserved keys."""

from __future__ import annotations

import pytest
from lifecycle_support import create_domain, create_object_type

ARN_PREFIX = "arn:aws:profile:us-east-1:123456789012:domains/"


@pytest.fixture
def client(customer_profiles_emulator):
    return customer_profiles_emulator.client()


@pytest.mark.parametrize(
    "arn",
    [
        ARN_PREFIX + "retail/workflows/" + "0" * 32,
        "arn:aws:profile:eu-west-1:123456789012:domains/retail",
        "arn:aws:profile:us-east-1:123456789012:something/else",
    ],
)
def test_unknown_arn_is_resource_not_found(client, arn):
    create_domain(client, "retail")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.tag_resource(resourceArn=arn, tags={"a": "b"})
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(resourceArn=arn)


def test_reserved_aws_prefix_is_rejected(client):
    create_domain(client, "retail")
    arn = ARN_PREFIX + "retail"
    with pytest.raises(client.exceptions.BadRequestException, match="aws:"):
        client.tag_resource(resourceArn=arn, tags={"aws:createdBy": "me"})
    with pytest.raises(client.exceptions.BadRequestException, match="aws:"):
        client.untag_resource(resourceArn=arn, tagKeys=["AWS:anything"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_tags_on_an_integration_follow_its_lifetime(client):
    create_domain(client, "retail")
    create_object_type(client, "retail", "CTR")
    uri = "arn:aws:connect:us-east-1:123456789012:instance/abc"
    client.put_integration(DomainName="retail", Uri=uri, ObjectTypeName="CTR", Tags={"src": "connect"})
    arn = f"{ARN_PREFIX}retail/integrations/{uri}"
    client.tag_resource(resourceArn=arn, tags={"env": "test"})
    assert client.get_integration(DomainName="retail", Uri=uri)["Tags"] == {"src": "connect", "env": "test"}
    client.delete_integration(DomainName="retail", Uri=uri)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(resourceArn=arn)

"""ListProfileObjectTypeTemplates, GetProfileObjectTypeTemplate, and the built-in templates they serve.

The templates follow the field lists and standard index names of the Amazon Connect
admin guide's "Mapping <source> objects to the standard profile" pages (Salesforce,
ServiceNow, Zendesk, Marketo). They are the local service's own definitions in that
spirit, not copies of the ones AWS serves.
"""

from __future__ import annotations

import copy
from typing import Any

from customer_profiles_local.errors import NotFound
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.state import EmulatorState


def _field(source: str, target: str | None = None, content_type: str = "STRING") -> dict[str, str]:
    field = {"Source": f"_source.{source}", "ContentType": content_type}
    if target:
        field["Target"] = f"_profile.{target}"
    return field


def _key(field_name: str, *identifiers: str) -> list[dict[str, list[str]]]:
    return [{"StandardIdentifiers": list(identifiers), "FieldNames": [field_name]}]


def _address(prefix: str, target: str) -> dict[str, Any]:
    """``<prefix>Street``, ``City``, ``State``, ``PostalCode`` and ``Country`` into one profile address."""
    parts = {"Street": "Address1", "City": "City", "State": "State", "PostalCode": "PostalCode", "Country": "Country"}
    return {f"{prefix}{part}": _field(f"{prefix}{part}", f"{target}.{slot}") for part, slot in parts.items()}


SALESFORCE_TIMESTAMP = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
ISO_UTC_TIMESTAMP = "yyyy-MM-dd'T'HH:mm:ss'Z'"

TEMPLATES: dict[str, dict[str, Any]] = {
    "Salesforce-Account": {
        "SourceName": "Salesforce",
        "SourceObject": "Account",
        "AllowProfileCreation": True,
        "SourceLastUpdatedTimestampFormat": SALESFORCE_TIMESTAMP,
        "Fields": {
            "Id": _field("Id", "Attributes.SalesforceAccountId"),
            "Name": _field("Name", "BusinessName", "NAME"),
            "AccountNumber": _field("AccountNumber", "AccountNumber"),
            "Phone": _field("Phone", "BusinessPhoneNumber", "PHONE_NUMBER"),
            "PersonEmail": _field("PersonEmail", "PersonalEmailAddress", "EMAIL_ADDRESS"),
            "PersonMobilePhone": _field("PersonMobilePhone", "MobilePhoneNumber", "PHONE_NUMBER"),
            **_address("Billing", "BillingAddress"),
            **_address("Shipping", "ShippingAddress"),
        },
        "Keys": {"_salesforceAccountId": _key("Id", "PROFILE", "UNIQUE")},
    },
    "Salesforce-Contact": {
        "SourceName": "Salesforce",
        "SourceObject": "Contact",
        "AllowProfileCreation": True,
        "SourceLastUpdatedTimestampFormat": SALESFORCE_TIMESTAMP,
        "Fields": {
            "Id": _field("Id", "Attributes.SalesforceContactId"),
            "AccountId": _field("AccountId", "Attributes.SalesforceAccountId"),
            "FirstName": _field("FirstName", "FirstName", "NAME"),
            "LastName": _field("LastName", "LastName", "NAME"),
            "Email": _field("Email", "EmailAddress", "EMAIL_ADDRESS"),
            "Phone": _field("Phone", "PhoneNumber", "PHONE_NUMBER"),
            "MobilePhone": _field("MobilePhone", "MobilePhoneNumber", "PHONE_NUMBER"),
            "HomePhone": _field("HomePhone", "HomePhoneNumber", "PHONE_NUMBER"),
            "Birthdate": _field("Birthdate", "BirthDate"),
            **_address("Mailing", "MailingAddress"),
        },
        "Keys": {"_salesforceContactId": _key("Id", "PROFILE", "UNIQUE")},
    },
    "ServiceNow-sys_user": {
        "SourceName": "ServiceNow",
        "SourceObject": "sys_user",
        "AllowProfileCreation": True,
        "SourceLastUpdatedTimestampFormat": "yyyy-MM-dd HH:mm:ss",
        "Fields": {
            "sys_id": _field("sys_id", "Attributes.ServiceNowSystemId"),
            "first_name": _field("first_name", "FirstName", "NAME"),
            "middle_name": _field("middle_name", "MiddleName", "NAME"),
            "last_name": _field("last_name", "LastName", "NAME"),
            "email": _field("email", "EmailAddress", "EMAIL_ADDRESS"),
            "phone": _field("phone", "BusinessPhoneNumber", "PHONE_NUMBER"),
            "mobile_phone": _field("mobile_phone", "MobilePhoneNumber", "PHONE_NUMBER"),
            "home_phone": _field("home_phone", "HomePhoneNumber", "PHONE_NUMBER"),
            "gender": _field("gender", "GenderString"),
            "street": _field("street", "Address.Address1"),
            "city": _field("city", "Address.City"),
            "state": _field("state", "Address.State"),
            "zip": _field("zip", "Address.PostalCode"),
            "country": _field("country", "Address.Country"),
        },
        "Keys": {"_serviceNowSystemId": _key("sys_id", "PROFILE", "UNIQUE")},
    },
    "Zendesk-users": {
        "SourceName": "Zendesk",
        "SourceObject": "users",
        "AllowProfileCreation": True,
        "SourceLastUpdatedTimestampFormat": ISO_UTC_TIMESTAMP,
        "Fields": {
            "id": _field("id", "Attributes.ZendeskUserId"),
            "external_id": _field("external_id", "Attributes.ZendeskExternalId"),
            "email": _field("email", "EmailAddress", "EMAIL_ADDRESS"),
            "phone": _field("phone", "PhoneNumber", "PHONE_NUMBER"),
        },
        "Keys": {
            "_zendeskUserId": _key("id", "PROFILE", "UNIQUE"),
            "_zendeskExternalId": _key("external_id", "PROFILE"),
        },
    },
    "Marketo-leads": {
        "SourceName": "Marketo",
        "SourceObject": "leads",
        "AllowProfileCreation": True,
        "SourceLastUpdatedTimestampFormat": ISO_UTC_TIMESTAMP,
        "Fields": {
            "id": _field("id", "Attributes.MarketoLeadId"),
            "sfdcAccountId": _field("sfdcAccountId", "Attributes.sfdcAccountId"),
            "sfdcContactId": _field("sfdcContactId", "Attributes.sfdcContactId"),
            "firstName": _field("firstName", "FirstName", "NAME"),
            "middleName": _field("middleName", "MiddleName", "NAME"),
            "lastName": _field("lastName", "LastName", "NAME"),
            "email": _field("email", "EmailAddress", "EMAIL_ADDRESS"),
            "phone": _field("phone", "PhoneNumber", "PHONE_NUMBER"),
            "mobilePhone": _field("mobilePhone", "MobilePhoneNumber", "PHONE_NUMBER"),
            "gender": _field("gender", "GenderString"),
            "dateOfBirth": _field("dateOfBirth", "BirthDate"),
            **_address("billing", "BillingAddress"),
            "address": _field("address", "Address.Address1"),
            "city": _field("city", "Address.City"),
            "state": _field("state", "Address.State"),
            "postalCode": _field("postalCode", "Address.PostalCode"),
            "country": _field("country", "Address.Country"),
        },
        "Keys": {
            "_marketoLeadId": _key("id", "PROFILE", "UNIQUE"),
            "_salesforceAccountId": _key("sfdcAccountId", "PROFILE"),
            "_salesforceContactId": _key("sfdcContactId", "PROFILE"),
        },
    },
}


def get_template(template_id: str) -> dict[str, Any] | None:
    """The template ``template_id`` (response shape, TemplateId included), or None."""
    template = TEMPLATES.get(template_id)
    return {"TemplateId": template_id, **copy.deepcopy(template)} if template is not None else None


@operation("ListProfileObjectTypeTemplates")
def list_profile_object_type_templates(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    page, token = paginate(sorted(TEMPLATES), params)
    items = [
        {"TemplateId": tid, "SourceName": TEMPLATES[tid]["SourceName"], "SourceObject": TEMPLATES[tid]["SourceObject"]}
        for tid in page
    ]
    return {"Items": items, "NextToken": token}


@operation("GetProfileObjectTypeTemplate")
def get_profile_object_type_template(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    template = get_template(params["TemplateId"])
    if template is None:
        raise NotFound(f"Template {params['TemplateId']} does not exist")
    return template

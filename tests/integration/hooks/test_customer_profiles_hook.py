"""The hook against the local service over HTTP: its client, NextToken paging and async client."""

from __future__ import annotations

import asyncio

import pytest


def test_the_hook_client_and_its_pages_follow_next_token(emulator, hook):
    names = [f"domain-{i:02d}" for i in range(7)]
    for name in names:
        hook.conn.create_domain(DomainName=name, DefaultExpirationDays=1)

    pages = list(hook.iterate_pages("list_domains", MaxResults=3))
    assert [len(p["Items"]) for p in pages] == [3, 3, 1]
    assert [d["DomainName"] for d in hook.iterate_items("list_domains", MaxResults=3)] == names
    assert emulator.metrics()["operations"]["ListDomains"]["succeeded"] == 6


def test_iterating_an_operation_that_is_not_a_nexttoken_list_is_refused(hook):
    with pytest.raises(ValueError, match="get_domain"):
        next(hook.iterate_items("get_domain", DomainName="x"))


def test_the_async_client_reaches_the_local_service(emulator, hook):
    emulator.client().create_domain(DomainName="async", DefaultExpirationDays=1)

    async def read() -> dict:
        async with await hook.get_async_conn() as client:
            return await client.get_domain(DomainName="async")

    assert asyncio.run(read())["DomainName"] == "async"

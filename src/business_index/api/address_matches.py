"""Matching a batch of addresses to UPRNs (up to 1,000 a request), with the index's own matcher:
the build's model and rules (``link/address_lists.py``). Needs ``read``."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from fastapi import APIRouter

from business_index.api import schemas
from business_index.api.common import Services, error_response, error_responses, guarded
from business_index.api.middleware import ADDRESS_MATCHES_PATH
from business_index.link.address_lists import AddressInput, AddressMatch, IndexAddressMatcher, NotMatchable
from business_index.store.index_reader import Reader

# how long a batch waits for this worker's matcher before the answer is 503 (a batch of 1,000 takes
# well under a second)
BUSY_SECONDS = 10


class MatcherOfCurrentBuild:
    """One matcher per worker, for the build the reader serves; a new build gets a new matcher.
    A matcher's scratch database serves one batch at a time."""

    def __init__(self, reader: Reader):
        self.reader = reader
        self._lock = threading.Lock()
        self._build: str | None = None
        self._matcher: IndexAddressMatcher | None = None

    def match(self, inputs: Sequence[AddressInput]) -> list[AddressMatch] | None:
        """The answers, or None when other batches kept this worker's matcher busy too long."""
        build = self.reader.current().build_id
        if not self._lock.acquire(timeout=BUSY_SECONDS):
            return None
        try:
            if self._matcher is None or self._build != build:
                if self._matcher is not None:
                    self._matcher.close()
                    self._matcher = None
                self._matcher, self._build = IndexAddressMatcher(self.reader.local_index()), build
            return self._matcher.match(inputs)
        finally:
            self._lock.release()


def router_for(services: Services, matcher: MatcherOfCurrentBuild) -> APIRouter:
    router = APIRouter()

    @router.post(ADDRESS_MATCHES_PATH, response_model=schemas.AddressMatchResult, response_model_by_alias=True,
                 responses=error_responses(409, 429, 503), **guarded(services, "read", limit="address_matches"))
    def address_matches(request_body: schemas.AddressMatchRequest):  # type: ignore[no-untyped-def]
        """Match up to 1,000 addresses to UPRNs, in order: each with its property (or none, and
        why), its probability, the runner-up and the rule and model levels that decided."""
        inputs = [AddressInput([a.address], a.postcode, a.name) for a in request_body.addresses]
        try:
            answers = matcher.match(inputs)
        except NotMatchable as exc:
            return error_response(409, None, str(exc))
        if answers is None:
            busy = error_response(503, None, "this server is matching other batches; try again shortly")
            busy.headers["Retry-After"] = str(BUSY_SECONDS)
            return busy
        return schemas.AddressMatchResult(
            matched=sum(a.uprn is not None for a in answers),
            matches=[schemas.AddressMatchAnswer(
                reference=given.reference, uprn=a.uprn, matched_address=a.address, match_probability=a.match_probability,
                runner_up_uprn=a.runner_up_uprn, runner_up_address=a.runner_up_address,
                runner_up_probability=a.runner_up_probability, decided_by=a.decided_by, reason=a.reason)
                for given, a in zip(request_body.addresses, answers, strict=True)])

    return router

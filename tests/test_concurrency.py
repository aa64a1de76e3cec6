"""Two people editing the same offer: the second save is refused, nothing is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from costshare.db import get_engine
from costshare.errors import ConflictError, ensure_version
from costshare.offers.models import Offer, QuoteRound, Resource, Vendor
from tests.factories import create_offer


@pytest.fixture
def committed_offer(app):
    """An offer committed for real, so two connections see it; removed afterwards."""
    engine = get_engine(app)
    with Session(engine) as setup:
        offer = create_offer(setup, title="Original")
        ids = (offer.id, offer.resource_id, offer.resource.vendor_id)
        setup.commit()
    yield ids[0]
    with Session(engine) as cleanup:
        offer = cleanup.get(Offer, ids[0])
        offer.current_round = None
        cleanup.flush()
        cleanup.execute(delete(QuoteRound).where(QuoteRound.offer_id == ids[0]))
        cleanup.execute(delete(Offer).where(Offer.id == ids[0]))
        cleanup.execute(delete(Resource).where(Resource.id == ids[1]))
        cleanup.execute(delete(Vendor).where(Vendor.id == ids[2]))
        cleanup.commit()


def test_the_second_of_two_concurrent_saves_is_refused(app, committed_offer) -> None:
    engine = get_engine(app)
    with Session(engine, expire_on_commit=False) as first, Session(engine) as second:
        mine = first.get(Offer, committed_offer)
        theirs = second.get(Offer, committed_offer)
        version = mine.version
        assert theirs.version == version
        first.commit()  # end the read, as a page load does; the object keeps its version

        theirs.title = "Their title"
        second.commit()
        assert theirs.version == version + 1

        mine.title = "My title"
        with pytest.raises(StaleDataError):
            first.commit()
    with Session(engine) as check:
        assert check.get(Offer, committed_offer).title == "Their title"


def test_a_form_carrying_an_old_version_gets_a_clear_message(session) -> None:
    offer = create_offer(session)
    offer.title = "Changed by someone else"
    session.flush()
    with pytest.raises(ConflictError) as caught:
        ensure_version(offer, 1, "offer")
    assert caught.value.status == 409
    assert "Someone else saved this offer after you opened it" in caught.value.message

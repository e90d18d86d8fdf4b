"""The JSON API of collections, feedback and recommendations (``/api/v1``): the
caller's collections and their papers, "not interested"/"seen" on a paper, and the
recommendations of a profile with their reasons. Another reader's collection ids answer
404, exactly as ids that do not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from paperwire.models import User
from paperwire.store.collections import Collection
from paperwire.web.deps import ServicesDep, api_caller
from paperwire.web.schemas import (
    ERRORS,
    PROBLEM,
    CollectionIn,
    CollectionList,
    CollectionOut,
    FeedbackIn,
    FeedbackOut,
    ItemIn,
    ItemList,
    ItemOut,
    RecommendationList,
    RecommendationOut,
)
from paperwire.web.usecases import collections as cases

router = APIRouter(prefix="/api/v1", tags=["collections"])

KeyPath = Annotated[str, Path(max_length=300, description="Paper key or arXiv id")]
Caller = Annotated[User, Depends(api_caller("use collections"))]
CollectionId = Annotated[int, Path(ge=1, le=cases.MAX_ID, description="Collection id")]


def _out(found: Collection) -> CollectionOut:
    return CollectionOut(
        id=found.id,
        name=found.name,
        size=found.size,
        profile=found.is_profile,
        shared=found.shared,
        seed=found.seed,
        created=found.created,
        description=found.description,
    )


@router.get("/collections", response_model=CollectionList, responses=ERRORS)
def list_collections(services: ServicesDep, reader: Caller) -> CollectionList:
    """The caller's collections (a "Reading list" is always there)."""
    return CollectionList(data=[_out(c) for c in cases.collections(services, reader)])


@router.post(
    "/collections", response_model=CollectionOut, status_code=201, responses=ERRORS | {409: PROBLEM}
)
def create_collection(services: ServicesDep, reader: Caller, body: CollectionIn) -> CollectionOut:
    """A new collection (409 if the caller has one of that name)."""
    return _out(cases.create(services, reader, body.name, body.profile))


@router.get("/collections/{collection_id}/papers", response_model=ItemList, responses=ERRORS)
def collection_papers(
    services: ServicesDep, reader: Caller, collection_id: CollectionId
) -> ItemList:
    """A collection's papers in order, with the caller's notes."""
    found = cases.owned(services, reader, collection_id)
    return ItemList(
        data=[
            ItemOut(
                key=item.paper.key,
                title=item.paper.title,
                note=item.note,
                position=item.position,
                added=item.added,
            )
            for item in cases.items(services, found)
        ]
    )


@router.put(
    "/collections/{collection_id}/papers/{key:path}", response_model=ItemOut, responses=ERRORS
)
def put_paper(
    services: ServicesDep,
    reader: Caller,
    collection_id: CollectionId,
    key: KeyPath,
    body: ItemIn | None = None,
) -> ItemOut:
    """Save a paper to a collection (idempotent), setting its note if one is given."""
    cases.save(services, reader, collection_id, key)
    if body is not None and body.note:
        cases.note(services, reader, collection_id, key, body.note)
    item = cases.saved_item(services, reader, collection_id, key)
    return ItemOut(
        key=item.paper.key,
        title=item.paper.title,
        note=item.note,
        position=item.position,
        added=item.added,
    )


@router.delete("/collections/{collection_id}/papers/{key:path}", status_code=204, responses=ERRORS)
def delete_paper(
    services: ServicesDep, reader: Caller, collection_id: CollectionId, key: KeyPath
) -> Response:
    """Take a paper out of a collection."""
    cases.remove(services, reader, collection_id, key)
    return Response(status_code=204)


@router.post("/papers/{key:path}/feedback", response_model=FeedbackOut, responses=ERRORS)
def post_feedback(
    services: ServicesDep, reader: Caller, key: KeyPath, body: FeedbackIn
) -> FeedbackOut:
    """Not interested (never recommended again; a negative for every profile) or seen."""
    cases.give_feedback(services, reader, key, body.signal, body.reason)
    return FeedbackOut(key=key, signal=body.signal, reason=body.reason)


@router.delete("/papers/{key:path}/feedback", status_code=204, responses=ERRORS)
def delete_feedback(
    services: ServicesDep,
    reader: Caller,
    key: KeyPath,
    signal: Annotated[str, Query(max_length=20)] = "not_interested",
) -> Response:
    """Undo a signal."""
    cases.undo_feedback(services, reader, key, signal)
    return Response(status_code=204)


@router.get("/recommendations", response_model=RecommendationList, responses=ERRORS)
def recommendations(
    services: ServicesDep,
    reader: Caller,
    collection: Annotated[
        int | None, Query(ge=1, le=cases.MAX_ID, description="Profile id (default: the first)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=cases.MAX_RECOMMENDATIONS)] = 20,
    seen: Annotated[
        bool, Query(description="Include papers already shown on /for-you or mailed")
    ] = False,
) -> RecommendationList:
    """The best papers for one of the caller's profiles, each with why (the Reading list
    also learns from the caller's upvotes). Unlike /for-you, the API marks nothing seen:
    POST a "seen" feedback for what the client shows."""
    if collection is None:
        found = cases.default_profile(services, reader)
    else:
        found = cases.owned(services, reader, collection)
    recs = cases.recommendations(services, reader, found, limit, show_seen=seen)
    return RecommendationList(
        data=[
            RecommendationOut(
                key=r.key,
                title=r.title,
                score=r.score,
                why=r.why,
                close_to=r.close_to_key,
                terms=r.terms,
            )
            for r in recs
        ],
        collection=found.id,
        method=recs[0].method if recs else "none",
    )

"""The JSON API of comments (``/api/v1``): a paper's comments, writing one (or a reply),
editing and deleting one's own. Another reader's comment answers 404 to PATCH and
DELETE, exactly as an id that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from paperwire.models import User
from paperwire.presentation import paper_url
from paperwire.store.comments import Comment
from paperwire.web.cursors import CursorQuery, decode_cursor, encode_cursor
from paperwire.web.deps import ApiUserDep, ServicesDep, api_caller, client_id
from paperwire.web.schemas import ERRORS, PROBLEM, CommentIn, CommentList, CommentOut, CommentPatch
from paperwire.web.services import Services
from paperwire.web.usecases import comments as cases

router = APIRouter(prefix="/api/v1", tags=["comments"])

KeyPath = Annotated[str, Path(max_length=300, description="Paper key or arXiv id")]
CommentId = Annotated[int, Path(ge=1, le=2**62, description="Comment id")]
Caller = Annotated[User, Depends(api_caller("comment"))]


def _out(services: Services, comment: Comment, viewer: User | None) -> CommentOut:
    html = cases.shown_body(comment, viewer)
    base = services.settings.base_url.rstrip("/")
    return CommentOut(
        id=comment.id,
        paper=comment.paper_key,
        author=comment.author,
        parent_id=comment.parent_id,
        thread_id=comment.root_id,
        status=comment.status,
        body=comment.body if html is not None else None,
        html=str(html) if html is not None else None,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        url=f"{base}{paper_url(comment.paper_key)}#comment-{comment.id}",
    )


@router.get("/papers/{key:path}/comments", response_model=CommentList, responses=ERRORS)
def list_comments(
    services: ServicesDep,
    user: ApiUserDep,
    key: KeyPath,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CommentList:
    """A paper's comments, oldest first (deleted and hidden ones without their text);
    follow `next` for more."""
    found = cases.comments_of(services, key, decode_cursor(cursor), limit + 1)
    page = found[:limit]
    return CommentList(
        data=[_out(services, c, user) for c in page],
        next=encode_cursor(page[-1].id) if len(found) > limit else None,
    )


@router.post(
    "/papers/{key:path}/comments", response_model=CommentOut, status_code=201, responses=ERRORS
)
def post_comment(
    request: Request, services: ServicesDep, caller: Caller, key: KeyPath, body: CommentIn
) -> CommentOut:
    """Write a comment on a paper, or a reply (parent_id)."""
    made = cases.post(services, caller, key, body.body, body.parent_id, client_id(request))
    return _out(services, made, caller)


@router.patch(
    "/comments/{comment_id}", response_model=CommentOut, responses=ERRORS | {409: PROBLEM}
)
def patch_comment(
    request: Request,
    services: ServicesDep,
    caller: Caller,
    comment_id: CommentId,
    body: CommentPatch,
) -> CommentOut:
    """Edit one's own comment (the old text is kept)."""
    changed = cases.edit(services, caller, comment_id, body.body, client_id(request))
    return _out(services, changed, caller)


@router.delete("/comments/{comment_id}", status_code=204, responses=ERRORS)
def delete_comment(services: ServicesDep, caller: Caller, comment_id: CommentId) -> Response:
    """Delete one's own comment (its thread keeps a placeholder)."""
    cases.delete(services, caller, comment_id)
    return Response(status_code=204)

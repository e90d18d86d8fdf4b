"""The use cases of the web, one module per resource as the routes are split: what the
pages, the API and the feeds show and do, written once for all three. Routes parse the
request, call one of these and render; no route reaches the store past this package.

- feed: the daily feed (day, week, month), the home page's day, trending
- search: search with filters, paging, "did you mean", an arXiv id in the search box
- papers: a paper and its similar papers, voting, submitting, confirming, hiding
- accounts: signing in and out, sessions, API tokens, readers' pages, the account page
- subscriptions: digest sign-up, confirmation, the manage link
- collections, comments, export, health: collections and recommendations, discussion,
  a reader's own data, health and status
"""

# Transitional, for branches written against the single web/usecases.py module (channels,
# MCP): the old flat names still import from here. Nothing in this tree uses them; import
# from the resource's module instead. To be removed once those branches are merged.
from paperwire.web.usecases.accounts import (
    SESSION_LIFETIME,
    SIGNIN_MINUTES,
    SIGNIN_PER_ADDRESS,
    Account,
    Profile,
    account,
    check_email,
    complete_signin,
    create_api_token,
    fresh_api_token,
    profile,
    revoke_api_token,
    send_signin_link,
    session_user,
    sign_out,
    signin_link_address,
    token_user,
)
from paperwire.web.usecases.feed import (
    MAX_PAGE,
    PAGE_SIZE,
    DailyPage,
    View,
    daily,
    day_range,
    home_day,
    mark_voted,
    trending,
)
from paperwire.web.usecases.papers import (
    MAX_ABSTRACT,
    MAX_AUTHORS,
    MAX_FILE_BYTES,
    MAX_TITLE,
    ArxivUnreachableError,
    ManualPaper,
    add_by_hand,
    add_from_file,
    confirm_paper,
    hide,
    paper_entry,
    recent_papers,
    similar_entries,
    submit,
    vote,
)
from paperwire.web.usecases.search import (
    MAX_SEARCH_RESULTS,
    FoundById,
    SearchRequest,
    SearchResult,
    find_by_id,
    run_search,
)
from paperwire.web.usecases.subscriptions import (
    change_subscription,
    confirm_subscription,
    owned_subscription,
    start_subscription,
    subscription_owner,
    unsubscribe,
)

__all__ = [
    "MAX_ABSTRACT",
    "MAX_AUTHORS",
    "MAX_FILE_BYTES",
    "MAX_PAGE",
    "MAX_SEARCH_RESULTS",
    "MAX_TITLE",
    "PAGE_SIZE",
    "SESSION_LIFETIME",
    "SIGNIN_MINUTES",
    "SIGNIN_PER_ADDRESS",
    "Account",
    "ArxivUnreachableError",
    "DailyPage",
    "FoundById",
    "ManualPaper",
    "Profile",
    "SearchRequest",
    "SearchResult",
    "View",
    "account",
    "add_by_hand",
    "add_from_file",
    "change_subscription",
    "check_email",
    "complete_signin",
    "confirm_paper",
    "confirm_subscription",
    "create_api_token",
    "daily",
    "day_range",
    "find_by_id",
    "fresh_api_token",
    "hide",
    "home_day",
    "mark_voted",
    "owned_subscription",
    "paper_entry",
    "profile",
    "recent_papers",
    "revoke_api_token",
    "run_search",
    "send_signin_link",
    "session_user",
    "sign_out",
    "signin_link_address",
    "similar_entries",
    "start_subscription",
    "submit",
    "subscription_owner",
    "token_user",
    "trending",
    "unsubscribe",
    "vote",
]

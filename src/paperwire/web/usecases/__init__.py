"""The use cases of the web, one module per resource as the routes are split: what the
pages, the API and the feeds show and do, written once for all three. Routes parse the
request, call one of these and render; no route reaches the store past this package.

- feed: the daily feed (day, week, month), the home page's day, trending
- search: search with filters, paging, "did you mean", an arXiv id in the search box
- papers: a paper and its similar papers, voting, submitting, confirming, hiding
- accounts: signing in and out, sessions, API tokens, readers' pages, the account page
- subscriptions: digest sign-up, confirmation, the manage link
- collections, comments, export, health, channels: collections and recommendations, discussion,
  a reader's own data, health and status, a reader's chat and webhook channels
"""

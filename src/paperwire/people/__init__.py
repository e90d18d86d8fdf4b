"""People (issue 29), as pure rules: author names matched as written and normalised
(names.py), and which follows a paper falls under (follows.py). The tables (follows,
claims, author pages) are in store/people.py; the pages in web/people.py."""

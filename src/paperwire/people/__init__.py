"""People (issue 29): authors known by their names as written, normalised for matching
(names.py); organizations from Hugging Face's organization field; follows and
authorship claims live in the store (store/people.py)."""

"""Recommendations for a reader's profiles: the features of every candidate paper
(``corpus``: tf-idf terms and the stored MiniLM vectors) and the ranking of them for one
profile from its positives and the reader's negatives, each result explained (``model``)."""

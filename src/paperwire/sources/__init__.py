"""Sources that fill the feed on a schedule: Hugging Face's daily papers and arXiv
categories. config.py reads a source's settings, cursor.py decides which days to harvest
and whether a day is complete, huggingface.py and arxiv.py read one day of their upstream,
rules.py chooses what reaches the feed, runner.py runs due sources under a lease."""

"""Discussion on every paper: comments' rendering (markup), the rules a comment must
pass (rules), threads as pages show them (threads), and reply/mention mail in batches
through the outbox (notify)."""

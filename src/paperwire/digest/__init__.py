"""Email: the mailer every message goes through (sign-in links now; digests later)."""

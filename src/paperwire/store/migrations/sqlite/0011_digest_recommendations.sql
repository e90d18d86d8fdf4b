-- A digest may carry a "Recommended for you" section (opt-in): the new papers of the
-- period ranked for one of the subscriber's collections (NULL: their first collection,
-- the Reading list). Only a subscription with an account (user_id) can have one.
ALTER TABLE subscriptions ADD COLUMN recommended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN profile_id INTEGER REFERENCES collections (id) ON DELETE SET NULL;

-- SPDX-License-Identifier: MIT
-- The township's accounts: the people who sign in to the review pages,
-- their sessions, and the log of every sign-in and every decision they
-- make. Passwords and session tokens are kept only as hashes (hub/auth.h).

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,  -- never reused: sessions and the log refer to it
    name            TEXT NOT NULL UNIQUE, -- what the person types to sign in: 王芳, wangfang
    role            TEXT NOT NULL CHECK (role IN ('reviewer', 'admin')),
                                          -- reviewer: reads and decides; admin: also manages
    pw_hash         TEXT NOT NULL,        -- Argon2id in PHC form ($argon2id$v=19$m=...)
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
                                          -- 1: can no longer sign in; kept for the log
    created_ms      INTEGER NOT NULL,     -- Unix ms, hub time
    failures        INTEGER NOT NULL DEFAULT 0,
                                          -- failed logins since the last success
    locked_until_ms INTEGER,              -- no login before this (Unix ms); NULL: not locked
    last_login_ms   INTEGER               -- the last successful login; NULL: never
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,   -- BLAKE2b-256 of the cookie's token; never the token itself
    csrf       TEXT NOT NULL,      -- the token state-changing requests must echo (X-CSRF-Token)
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_ms INTEGER NOT NULL,   -- when the person signed in (Unix ms)
    last_ms    INTEGER NOT NULL,   -- the last request of the session: idle sessions end
    expires_ms INTEGER NOT NULL    -- the session ends here however busy it is
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Every sign-in, sign-out, lock and account change, and every decision a
-- reviewer makes, for the township to review.
CREATE TABLE auth_log (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,  -- Unix ms, hub time
    user    TEXT,              -- the name given or acted on; NULL when no valid name was given
    kind    TEXT NOT NULL,     -- login_ok | login_failed | locked | disabled | logout |
                               -- user_added | user_disabled | decision
    message TEXT NOT NULL,     -- what happened, in a sentence
    remote  TEXT               -- the client's address; NULL for the command line
);
CREATE INDEX auth_log_at ON auth_log (at_ms);
CREATE INDEX auth_log_user ON auth_log (user, at_ms);

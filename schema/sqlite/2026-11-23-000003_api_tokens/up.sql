-- API tokens for integrations and scripts: only the SHA-256 of a token is kept; the token
-- itself is shown once, when it is made. Kept in step with the sqlite folder.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

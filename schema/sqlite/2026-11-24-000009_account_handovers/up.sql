-- Hosting accounts handed over to the applicant: the account's name, and its password sealed
-- (AES-256-GCM under a key kept in the data directory, never in the database) until the
-- applicant reveals it once; then the sealed bytes are gone and only the time remains.
-- Kept in step with ../../postgres/2026-11-24-000009_account_handovers/up.sql.
CREATE TABLE account_handovers (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    account TEXT NOT NULL,
    sealed BLOB,
    created_by BIGINT NOT NULL REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    revealed_by BIGINT REFERENCES people (id),
    revealed_at TIMESTAMP,
    CHECK ((sealed IS NULL) = (revealed_at IS NOT NULL))
);
CREATE INDEX account_handovers_request ON account_handovers (request_id, id);

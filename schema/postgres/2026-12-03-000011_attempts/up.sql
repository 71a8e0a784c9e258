-- Attempts at a secret, counted before each is checked (src/attempts.rs): a sign-in from an
-- address, the sign-ins of one account from one address, an official's signing passphrase.
-- One row per scope and subject; the count and the wait change together in one compare-and-
-- set statement, so that parallel attempts cannot check more than the allowed number.
-- Replaces signin_failures (per username) and signing_locks (per person). Jobs record the
-- instance that runs them, so that a restarted instance releases the jobs it left running.
-- Kept in step with ../../sqlite/2026-12-03-000011_attempts/up.sql.
CREATE TABLE attempts (
    scope TEXT NOT NULL CHECK (scope IN ('signin', 'signin_address', 'passphrase')),
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL CHECK (failures >= 0),
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, subject)
);
DROP TABLE signin_failures;
DROP TABLE signing_locks;
ALTER TABLE jobs ADD COLUMN instance TEXT;

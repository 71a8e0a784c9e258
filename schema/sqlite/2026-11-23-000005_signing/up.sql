-- Signatures on letters, one row per signature field signed (a paraf or a signer's TTE), and
-- the signing lock of each official: wrong passphrases in a row, and until when signing is
-- locked after five. Kept in step with the other backend's folder.
CREATE TABLE letter_signatures (
    id INTEGER PRIMARY KEY,
    letter_id BIGINT NOT NULL REFERENCES letters (id),
    revision INTEGER NOT NULL,
    person_id BIGINT NOT NULL REFERENCES people (id),
    field_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('paraf', 'signature')),
    level TEXT NOT NULL,
    signer TEXT NOT NULL CHECK (signer IN ('pkcs12', 'bsre')),
    signed_at TIMESTAMP NOT NULL,
    UNIQUE (letter_id, field_name),
    UNIQUE (letter_id, revision)
);

CREATE TABLE signing_locks (
    person_id BIGINT PRIMARY KEY REFERENCES people (id),
    failures INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

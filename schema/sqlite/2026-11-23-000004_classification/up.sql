-- The archive classification codes (kode klasifikasi arsip, Permendagri 83/2022) an office
-- uses on its letters: data the office edits, loaded from classification/ at first. A code is
-- retired rather than deleted, since letters already filed under it keep it. Kept in step with
-- the other backend's folder.
CREATE TABLE classification_codes (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    code TEXT NOT NULL,
    title TEXT NOT NULL CHECK (title <> ''),
    updated_by BIGINT REFERENCES people (id),
    updated_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP,
    UNIQUE (office_id, code)
);

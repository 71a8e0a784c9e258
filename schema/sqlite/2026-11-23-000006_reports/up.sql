-- Reports made, one row per office, kind and period: the unique key makes each period's report
-- once however many naskah instances run the schedule; and each person's inbox, where reports
-- (and later the workflow's notices) are delivered. Kept in step with
-- ../../postgres/2026-11-23-000006_reports/up.sql.
CREATE TABLE report_runs (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    kind TEXT NOT NULL CHECK (kind IN ('sla', 'annual')),
    period TEXT NOT NULL,
    letter_id BIGINT REFERENCES letters (id),
    made_by TEXT NOT NULL,
    instance TEXT NOT NULL,
    made_at TIMESTAMP NOT NULL,
    UNIQUE (office_id, kind, period)
);

CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    letter_id BIGINT REFERENCES letters (id),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX inbox_person ON inbox (person_id, read_at);

-- Retention (jadwal retensi arsip) per classification code, as data the office keeps: years
-- active and inactive, and what follows. A code's retention holds for the codes below it
-- unless they have their own.
CREATE TABLE retention_schedule (
    office_id BIGINT NOT NULL REFERENCES offices (id),
    code TEXT NOT NULL,
    active_years INTEGER NOT NULL CHECK (active_years >= 0),
    inactive_years INTEGER NOT NULL CHECK (inactive_years >= 0),
    disposition TEXT NOT NULL CHECK (disposition IN ('musnah', 'permanen', 'dinilai_kembali')),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (office_id, code)
);

-- Letters and their numbers are voided, never deleted.
CREATE TRIGGER letters_never_deleted BEFORE DELETE ON letters
BEGIN
    SELECT RAISE(ABORT, 'naskah: letters rows are voided, never deleted');
END;
CREATE TRIGGER issued_numbers_never_deleted BEFORE DELETE ON issued_numbers
BEGIN
    SELECT RAISE(ABORT, 'naskah: issued_numbers rows are voided, never deleted');
END;

-- Sign-in sessions: only the SHA-256 of the cookie's token is kept, with the session's CSRF
-- token for its forms; and failed sign-ins per username, which slow the next attempts.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    person_id BIGINT NOT NULL REFERENCES people (id),
    csrf TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE signin_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

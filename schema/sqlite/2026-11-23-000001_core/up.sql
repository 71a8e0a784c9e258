-- The core of naskah: offices and their people, SOP versions, hosting requests, letters with
-- every PDF revision, number registers with every issued number, and the hash-chained audit log.
-- Kept column for column in step with ../../postgres/2026-11-23-000001_core/up.sql; the test
-- `schema_matches_migrations` checks both against src/db/schema.rs.

CREATE TABLE offices (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    government TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT,
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    postal_code TEXT,
    phone TEXT,
    website TEXT,
    email TEXT,
    emblem_path TEXT,
    time_zone TEXT NOT NULL CHECK (time_zone IN ('WIB', 'WITA', 'WIT')),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    nip TEXT UNIQUE,
    nik TEXT,
    email TEXT,
    rank TEXT,
    position TEXT,
    organization TEXT,
    password_hash TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE person_roles (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    office_id BIGINT NOT NULL REFERENCES offices (id),
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (person_id, office_id, role)
);
CREATE INDEX person_roles_office_role ON person_roles (office_id, role);

CREATE TABLE sop_versions (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    definition TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (office_id, version)
);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    sop_version_id BIGINT NOT NULL REFERENCES sop_versions (id),
    applicant_id BIGINT NOT NULL REFERENCES people (id),
    applicant_organization TEXT NOT NULL,
    application_name TEXT NOT NULL,
    subdomain TEXT,
    application_type TEXT,
    current_step TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'finished', 'rejected', 'withdrawn')),
    filed_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX requests_office_status ON requests (office_id, status);
CREATE INDEX requests_applicant ON requests (applicant_id);

CREATE TABLE letters (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    request_id BIGINT REFERENCES requests (id),
    kind TEXT NOT NULL,
    -- The random identifier in the letter's QR code and verification address: public, and not
    -- guessable from the row id.
    public_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'numbered', 'signed', 'void')),
    letter_date DATE,
    sifat TEXT NOT NULL,
    hal TEXT NOT NULL,
    sender TEXT NOT NULL,
    addressee TEXT NOT NULL,
    classification_code TEXT,
    fields TEXT NOT NULL,
    created_by BIGINT REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP,
    void_reason TEXT
);
CREATE INDEX letters_request ON letters (request_id);
CREATE INDEX letters_office_kind ON letters (office_id, kind);

-- Every PDF a letter ever had: generated, each signature, each LTV update. Never changed.
CREATE TABLE letter_revisions (
    id INTEGER PRIMARY KEY,
    letter_id BIGINT NOT NULL REFERENCES letters (id),
    revision INTEGER NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('generated', 'numbered', 'paraf', 'signature', 'ltv', 'timestamp')),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    pdf BLOB NOT NULL,
    actor_id BIGINT REFERENCES people (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (letter_id, revision)
);
CREATE INDEX letter_revisions_sha256 ON letter_revisions (sha256);

CREATE TABLE number_registers (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('outgoing', 'agenda')),
    pattern TEXT NOT NULL,
    settings TEXT NOT NULL,
    letter_kind TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (office_id, code)
);

-- One row per register and calendar year: the last sequence number issued and the latest date
-- of a main number, which a new main number may not precede.
CREATE TABLE register_counters (
    register_id BIGINT NOT NULL REFERENCES number_registers (id),
    year INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    last_date DATE,
    PRIMARY KEY (register_id, year)
);

CREATE TABLE issued_numbers (
    id INTEGER PRIMARY KEY,
    register_id BIGINT NOT NULL REFERENCES number_registers (id),
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    sub INTEGER NOT NULL,
    number TEXT NOT NULL,
    letter_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'reserved', 'used', 'void')),
    letter_id BIGINT UNIQUE REFERENCES letters (id),
    reason TEXT,
    issued_by BIGINT NOT NULL REFERENCES people (id),
    issued_at TIMESTAMP NOT NULL,
    void_reason TEXT,
    voided_by BIGINT REFERENCES people (id),
    voided_at TIMESTAMP,
    UNIQUE (register_id, year, seq, sub)
);

-- Append-only: ids are assigned one after another under a lock, and each entry carries the
-- hash of the one before it, so a changed, removed or inserted entry breaks the chain.
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES people (id),
    office_id BIGINT REFERENCES offices (id),
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'naskah: audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'naskah: audit_log is append-only'); END;
CREATE TRIGGER letter_revisions_no_update BEFORE UPDATE ON letter_revisions
BEGIN SELECT RAISE(ABORT, 'naskah: letter_revisions is append-only'); END;
CREATE TRIGGER letter_revisions_no_delete BEFORE DELETE ON letter_revisions
BEGIN SELECT RAISE(ABORT, 'naskah: letter_revisions is append-only'); END;

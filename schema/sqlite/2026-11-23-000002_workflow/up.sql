-- The workflow: each office's working calendar and own holidays, the steps a request has
-- passed through with their SLA clocks, and the documents and records attached to a request.
-- Kept in step with ../../postgres/2026-11-23-000002_workflow/up.sql.

CREATE TABLE office_calendars (
    office_id BIGINT PRIMARY KEY REFERENCES offices (id),
    working_days TEXT NOT NULL,
    opens TEXT NOT NULL,
    closes TEXT NOT NULL,
    day_reading TEXT NOT NULL CHECK (day_reading IN ('working-day', 'close-of-business'))
);

CREATE TABLE office_holidays (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    day DATE NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (office_id, day)
);

-- One row each time a request enters a step; completed when it leaves it.
CREATE TABLE request_steps (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    step_no TEXT NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    deadline_at TIMESTAMP,
    completed_at TIMESTAMP,
    completed_by BIGINT REFERENCES people (id),
    decision TEXT,
    next_step TEXT,
    note TEXT
);
CREATE INDEX request_steps_request ON request_steps (request_id, id);
CREATE INDEX request_steps_open ON request_steps (completed_at, deadline_at);

-- Attachments from the applicant and records the Dinas makes (subdomain, IP address, hosting
-- account name, …). Never a password.
CREATE TABLE request_items (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    kind TEXT NOT NULL CHECK (kind IN ('attachment', 'artefact')),
    item TEXT NOT NULL,
    value TEXT NOT NULL,
    content BLOB,
    sha256 TEXT,
    step_no TEXT,
    created_by BIGINT NOT NULL REFERENCES people (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX request_items_request ON request_items (request_id, kind, item);

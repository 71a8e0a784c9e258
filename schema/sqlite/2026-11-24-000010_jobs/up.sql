-- Work that takes a while, done in the background for one person, with its progress for the
-- page that shows it: how many items of how many are done, each item's outcome (JSON), and
-- whether it still runs. `updated_at` moves with every item, so that a job whose process
-- died shows as stopped. Kept in step with ../../postgres/2026-11-24-000010_jobs/up.sql.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL CHECK (kind IN ('sign_letters', 'export', 'report')),
    total INTEGER NOT NULL CHECK (total >= 0),
    done INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'stopped')),
    message TEXT,
    outcomes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX jobs_person ON jobs (person_id, id);

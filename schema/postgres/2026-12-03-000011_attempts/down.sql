ALTER TABLE jobs DROP COLUMN instance;
CREATE TABLE signing_locks (
    person_id BIGINT PRIMARY KEY REFERENCES people (id),
    failures INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE signin_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
DROP TABLE attempts;

-- SQLite drops no column that a foreign key names: the inbox is rebuilt without it.
CREATE TABLE inbox_before (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    letter_id BIGINT REFERENCES letters (id),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO inbox_before (id, person_id, kind, subject, letter_id, created_at, read_at)
    SELECT id, person_id, kind, subject, letter_id, created_at, read_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_before RENAME TO inbox;
CREATE INDEX inbox_person ON inbox (person_id, read_at);
DROP TABLE notification_deliveries;
DROP TABLE notifications;

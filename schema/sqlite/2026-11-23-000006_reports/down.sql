DROP TABLE signin_failures;
DROP TABLE sessions;
DROP TRIGGER issued_numbers_never_deleted;
DROP TRIGGER letters_never_deleted;
DROP TABLE retention_schedule;
DROP TABLE inbox;
DROP TABLE report_runs;

DROP TABLE signin_failures;
DROP TABLE sessions;
DROP TRIGGER issued_numbers_never_deleted ON issued_numbers;
DROP TRIGGER letters_never_deleted ON letters;
DROP FUNCTION naskah_refuse_delete();
DROP TABLE retention_schedule;
DROP TABLE inbox;
DROP TABLE report_runs;

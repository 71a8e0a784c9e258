DROP TABLE retention_schedule;
DROP TABLE inbox;
DROP TABLE report_runs;

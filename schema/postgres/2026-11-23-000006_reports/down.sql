DROP TABLE inbox;
DROP TABLE report_runs;

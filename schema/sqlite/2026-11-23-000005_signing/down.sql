DROP TABLE signing_locks;
DROP TABLE letter_signatures;

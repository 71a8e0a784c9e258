ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE audit_log_id_seq;
DROP INDEX audit_log_chain_seq;
ALTER TABLE audit_log DROP COLUMN seq;
ALTER TABLE audit_log DROP COLUMN chain;

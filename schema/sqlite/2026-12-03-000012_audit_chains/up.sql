-- One hash chain per office (chain = the office's id) and one for deployment-wide events
-- (chain 0), each numbered 1, 2, 3, … by seq. The entries written before this migration stay
-- chain 0 with seq = id: today's single chain, verifiable as it was, which the deployment's
-- chain continues. (SQLite's write lock serialises appenders; ids stay max + 1.)
DROP TRIGGER audit_log_no_update;
ALTER TABLE audit_log ADD COLUMN chain BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE audit_log SET seq = id;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'naskah: audit_log is append-only'); END;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain, seq);

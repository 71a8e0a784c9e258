-- One hash chain per office (chain = the office's id) and one for deployment-wide events
-- (chain 0), each numbered 1, 2, 3, … by seq under its own lock. The entries written before
-- this migration stay chain 0 with seq = id: today's single chain, verifiable as it was, which
-- the deployment's chain continues. The id becomes a sequence, since chains append in parallel.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
ALTER TABLE audit_log ADD COLUMN chain BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
UPDATE audit_log SET seq = id;
ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN chain DROP DEFAULT;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain, seq);
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
SELECT setval('audit_log_id_seq', COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq');

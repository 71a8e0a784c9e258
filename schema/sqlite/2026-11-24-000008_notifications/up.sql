-- Notifications: what happened ("letter.signed", "request.finished"), written in the same
-- transaction as the change itself, so that nothing is announced that did not happen and
-- nothing that happened goes unannounced after a crash; and each delivery of it (a webhook
-- call, an e-mail) with its attempts, retried with back-off until delivered or given up.
-- Kept in step with ../../postgres/2026-11-24-000008_notifications/up.sql.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL CHECK (event IN ('letter.signed', 'request.finished')),
    office_id BIGINT NOT NULL REFERENCES offices (id),
    request_id BIGINT REFERENCES requests (id),
    letter_id BIGINT REFERENCES letters (id),
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- When its deliveries were made out for the configured webhooks and recipients.
    fanned_out_at TIMESTAMP
);
CREATE INDEX notifications_to_fan_out ON notifications (fanned_out_at, id);

CREATE TABLE notification_deliveries (
    id INTEGER PRIMARY KEY,
    notification_id BIGINT NOT NULL REFERENCES notifications (id),
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT,
    UNIQUE (notification_id, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);

-- An inbox notice may be about a request rather than a letter.
ALTER TABLE inbox ADD COLUMN request_id BIGINT REFERENCES requests (id);

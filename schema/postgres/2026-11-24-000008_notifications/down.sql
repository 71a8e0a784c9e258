ALTER TABLE inbox DROP COLUMN request_id;
DROP TABLE notification_deliveries;
DROP TABLE notifications;

DROP INDEX request_steps_open_by_request;
DROP INDEX requests_office_newest;

-- The open step of each request, by request: what the waiting list reads for every open
-- request of an office on every home page. Led by completed_at so that SQLite's planner takes
-- it for `completed_at IS NULL AND request_id IN (…)` and answers from the index alone (a
-- partial index on request_id it passed over for request_steps_open, and then read each open
-- step's row: about a thousand pages a view at 10,000 requests).
CREATE INDEX request_steps_open_by_request ON request_steps (completed_at, request_id, deadline_at);

-- An office's requests, newest first: the request lists of every home page and of the API.
CREATE INDEX requests_office_newest ON requests (office_id, id);

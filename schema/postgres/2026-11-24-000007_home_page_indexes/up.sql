-- The open step of each request, by request: what the waiting list and the request lists read
-- for every open request of an office on every home page. Partial, so it holds only the open
-- steps (about one per open request) and answers from the index alone.
CREATE INDEX request_steps_open_by_request ON request_steps (request_id, deadline_at)
    WHERE completed_at IS NULL;

-- An office's requests, newest first: the request lists of every home page and of the API.
CREATE INDEX requests_office_newest ON requests (office_id, id);

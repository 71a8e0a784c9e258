DROP TABLE request_items;
DROP TABLE request_steps;
DROP TABLE office_holidays;
DROP TABLE office_calendars;

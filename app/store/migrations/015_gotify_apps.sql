-- Gotify applications created, renamed and deleted through Gotify's API (issue 13): the
-- description the Gotify app shows and edits, and the priority a message without one gets.
-- NULL for tokens made otherwise (`beep token create`, the admin API): Gotify lists them with
-- a generated description, and their messages without a priority get Beep's default.
ALTER TABLE api_tokens ADD COLUMN description TEXT;
ALTER TABLE api_tokens ADD COLUMN default_priority INTEGER;

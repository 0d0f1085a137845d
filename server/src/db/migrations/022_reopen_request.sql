-- A resident asks for the case to be done again (申请重办, action request_reopen): when they asked; the dispatcher's
-- reopen clears it.
ALTER TABLE cases ADD COLUMN reopen_requested_at timestamptz;

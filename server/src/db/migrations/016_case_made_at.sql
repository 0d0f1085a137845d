-- When the report was made on the phone (the field app's offline queue sends it later): the user's time, kept
-- beside reported_at (the server's receive time, from which every limit runs). NULL: not sent.
ALTER TABLE cases ADD COLUMN made_at timestamptz;

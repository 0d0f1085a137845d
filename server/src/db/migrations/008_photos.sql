-- Photos uploaded for case intake (and later for case actions). The bytes live on disk under the uploads dir as
-- <first 2 hex of id>/<id>.<ext>: a server-made name, never the uploader's. A photo is uploaded first (case_id NULL)
-- and attached when a case or an action references it. Contents are immutable: a new image is a new row.
CREATE TABLE photos (
  id            uuid PRIMARY KEY,
  case_id       uuid REFERENCES cases (id),
  mime          text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp')),
  width         integer NOT NULL CHECK (width > 0),
  height        integer NOT NULL CHECK (height > 0),
  bytes         integer NOT NULL CHECK (bytes > 0),
  sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  original_name text,                     -- sanitised, for display only; never used as a path
  uploaded_by   text,
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp()  -- not now(): photos stored together keep their order
);
CREATE INDEX photos_case_idx ON photos (case_id) WHERE case_id IS NOT NULL;

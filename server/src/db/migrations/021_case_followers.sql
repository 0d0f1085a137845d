-- "Me too" (同一问题已有人上报): people who added themselves to an existing case instead of reporting it again
-- (POST /api/cases/:id/supplements). A follower reads the case like its reporter and hears of it on their personal
-- channel; `cases.supporters` counts them (kept in the follower's own transaction) for lists and the nearby lookup.
CREATE TABLE case_followers (
  case_id  uuid NOT NULL REFERENCES cases (id),
  actor    text NOT NULL,             -- actorOf(user): the worker id of a grid worker, else the username
  since    timestamptz NOT NULL,
  PRIMARY KEY (case_id, actor)
);
-- "The cases I follow" (the read reach of a follower).
CREATE INDEX case_followers_actor_idx ON case_followers (actor, case_id);

ALTER TABLE cases ADD COLUMN supporters integer NOT NULL DEFAULT 0 CHECK (supporters >= 0);

-- The personal live channel (events:resume with scope.mine): the actors (worker id of a grid worker, else the
-- username) an event is personal to, whatever its region — a case's assignee, its previous assignee, its reporter,
-- its followers; a worker's own events. NULL: nobody in particular. A socket with `mine` gets the events that name
-- its user here as well as those under its regions.
ALTER TABLE events ADD COLUMN actors text[];

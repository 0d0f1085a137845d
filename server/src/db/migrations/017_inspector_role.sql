-- Role inspector (核查员): scoped to a street or community like a leader, so it needs a scope region too.
-- The checks of 013 carry generated names; they are found by what they say.
DO $$
DECLARE c record;
BEGIN
  FOR c IN
    SELECT conname FROM pg_constraint
     WHERE conrelid = 'users'::regclass AND contype = 'c'
       AND (pg_get_constraintdef(oid) LIKE '%''commander''%'                   -- the list of roles
            OR pg_get_constraintdef(oid) LIKE '%''leader''%scope_region_id IS NOT NULL%')  -- dispatcher, leader need a scope
  LOOP
    EXECUTE format('ALTER TABLE users DROP CONSTRAINT %I', c.conname);
  END LOOP;
END $$;

ALTER TABLE users
  ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'commander', 'dispatcher', 'leader', 'inspector', 'grid_worker', 'resident')),
  ADD CONSTRAINT users_scoped_role_check CHECK (role NOT IN ('dispatcher', 'leader', 'inspector') OR scope_region_id IS NOT NULL);

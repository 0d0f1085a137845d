import { inject } from 'vitest'
import { migrate } from '../../server/src/db/migrate.ts'
import { createEmbeddedDb } from '../../server/src/db/embedded-db.ts'
import { createPgDb } from '../../server/src/db/pg-db.ts'
import { syncReferenceData } from '../../server/src/db/reference.ts'
import { seedDemoRegions } from '../../server/src/db/seed.ts'
import { seedDemoUsers } from '../../server/src/db/seed-users.ts'
import type { Db, DbMode } from '../../server/src/db/types.ts'

/** Embedded always; real PostGIS too when DATABASE_URL is set. Suites run once per mode with describe.each. */
export const DB_MODES: DbMode[] = inject('pgUrl') ? ['embedded', 'postgres'] : ['embedded']

const dbs = new Map<DbMode, Promise<Db>>()

/** One migrated, seeded database per mode for the whole run (tests share it and must not assume it is empty). */
export function testDb(mode: DbMode): Promise<Db> {
  let db = dbs.get(mode)
  if (!db) {
    db = (async () => {
      const d = mode === 'embedded' ? await createEmbeddedDb(inject('embeddedDir')) : createPgDb(inject('pgUrl')!)
      await migrate(d)
      await syncReferenceData(d)
      await seedDemoRegions(d)
      await seedDemoUsers(d)
      return d
    })()
    dbs.set(mode, db)
  }
  return db
}

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from '../server/src/db/migrate.ts'
import { openDb } from '../server/src/db/open-db.ts'
import { seedDemoRegions } from '../server/src/db/seed.ts'
import type { Db } from '../server/src/db/types.ts'
import { createScratchDatabase } from '../test/support/scratch-db.ts'

/**
 * A fresh, migrated database holding the demo region, for one benchmark run: a scratch database on the server of
 * DATABASE_URL when set, else embedded PostGIS in a temporary folder. `dispose()` closes and removes it.
 */
export async function openBenchDb(): Promise<{ db: Db; dispose: () => Promise<void> }> {
  const scratch = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL, 'gc_bench') : undefined
  const dir = scratch ? '' : mkdtempSync(join(tmpdir(), 'gc-bench-'))
  const db = await openDb({ databaseUrl: scratch?.url, dataDir: dir })
  await migrate(db)
  await seedDemoRegions(db)
  if (db.mode === 'postgres') await db.query('ANALYZE')
  return {
    db,
    dispose: async () => {
      await db.close()
      await scratch?.drop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

import type { Config } from '../config.ts'
import { createEmbeddedDb } from './embedded-db.ts'
import { createPgDb } from './pg-db.ts'
import type { Db } from './types.ts'

/** DATABASE_URL set → real PostGIS; unset → embedded PGlite under DATA_DIR. */
export async function openDb(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Db> {
  return config.databaseUrl ? createPgDb(config.databaseUrl) : createEmbeddedDb(config.dataDir)
}

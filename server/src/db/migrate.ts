import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Db } from './types.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))
const FILE_RE = /^(\d+)_[\w-]+\.sql$/
/** Key for pg_advisory_xact_lock: two processes starting at once apply each migration once. */
const LOCK_KEY = 7_100_001

export interface Migration {
  version: number
  name: string
  sql: string
  checksum: string
}

export class MigrationError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`migration ${file} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'MigrationError'
  }
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((name) => {
      const m = FILE_RE.exec(name)
      if (!m) throw new MigrationError(name, new Error('name must look like 001_what_it_does.sql'))
      const sql = readFileSync(`${dir}/${name}`, 'utf8')
      return { version: Number(m[1]), name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
    .sort((a, b) => a.version - b.version)
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new MigrationError(migrations[i].name, new Error(`version ${migrations[i].version} is used twice`))
    }
  }
  return migrations
}

/**
 * Applies the numbered .sql files not yet recorded in schema_migrations, in order, each in its own transaction.
 * Returns the names applied (none on a second start). A migration that was changed after it was applied, or that
 * fails, stops the start with its file name.
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = readMigrations(dir)
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
  const applied: string[] = []
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY])
      const { rows } = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [m.version])
      if (rows.length > 0) {
        if (rows[0].checksum !== m.checksum) {
          throw new MigrationError(m.name, new Error('the file changed after it was applied; add a new migration instead'))
        }
        return false
      }
      try {
        await tx.exec(m.sql)
      } catch (err) {
        throw new MigrationError(m.name, err)
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum])
      return true
    })
    if (done) applied.push(m.name)
  }
  return applied
}

import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations } from '../../src/db/migrate.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

function migrationsWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gc-migrations-'))
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  for (const [name, sql] of Object.entries(extra)) writeFileSync(join(dir, name), sql)
  return dir
}

describe('readMigrations', () => {
  it('orders files by their number and rejects badly named ones', () => {
    const names = readMigrations().map((m) => m.name)
    expect(names).toEqual([...names].sort())
    expect(names[0]).toBe('001_extensions.sql')
    expect(() => readMigrations(migrationsWith({ 'extra.sql': 'SELECT 1' }))).toThrow(/extra\.sql/)
    expect(() => readMigrations(migrationsWith({ '004_again.sql': 'SELECT 1' }))).toThrow(/version 4 is used twice/)
  })
})

describe.each(DB_MODES)('migrate (%s)', (mode) => {
  it('records every migration once and applies nothing on a second start', async () => {
    const db = await testDb(mode)
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version')
    expect(rows.map((r) => r.name)).toEqual(readMigrations().map((m) => m.name))
    expect(await migrate(db)).toEqual([])
  })

  it('stops on a failing migration with its file name and writes nothing of it', async () => {
    const db = await testDb(mode)
    const dir = migrationsWith({ '900_broken.sql': 'CREATE TABLE half_done (id int);\nSELECT no_such_function();' })
    const err = await migrate(db, dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MigrationError)
    expect((err as MigrationError).file).toBe('900_broken.sql')
    expect((err as Error).message).toMatch(/900_broken\.sql.*no_such_function/)
    const table = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`)
    expect(table.rowCount).toBe(0)
    const rec = await db.query('SELECT 1 FROM schema_migrations WHERE version = 900')
    expect(rec.rowCount).toBe(0)
  })

  it('refuses to start when an applied migration was edited', async () => {
    const db = await testDb(mode)
    const dir = migrationsWith({ '004_events.sql': '-- edited\nSELECT 1;' })
    await expect(migrate(db, dir)).rejects.toThrow(/004_events\.sql.*changed after it was applied/)
  })
})

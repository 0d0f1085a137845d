import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { ltree } from '@electric-sql/pglite/contrib/ltree'
import { postgis } from '@electric-sql/pglite-postgis'
import pgUtils from 'pg/lib/utils.js'
import type { Db, QueryResult, Queryable } from './types.ts'

/**
 * Array parameters as `pg` sends them: an array literal in text ('{"*.a.*"}', '{}'), so the same SQL reads them the
 * same in both modes. PGlite serializes an array only when it knows the parameter's type; for an extension's type
 * (lquery[], ltree[]) it sent String(value) ('' for []), and the statement failed.
 */
function asParams(params: unknown[] | undefined): unknown[] | undefined {
  return params?.some(Array.isArray) ? params.map((v) => (Array.isArray(v) ? pgUtils.prepareValue(v) : v)) : params
}

/**
 * Embedded PostgreSQL 18 + PostGIS 3.6 (PGlite) in this process, persisted under `dataDir`.
 * Used through PGlite's own API: never served to `pg` over a socket (see ../shared/TOOLCHAIN.md).
 */
export async function createEmbeddedDb(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true })
  const pglite = await PGlite.create({ dataDir, extensions: { postgis, ltree } })
  // bigint (count(*), bigserial) → number, as in pg-db.ts.
  const parseInt8 = (v: string) => Number(v)
  const options = { parsers: { 20: parseInt8 } }
  const asResult = <T>(r: { rows: unknown[]; affectedRows?: number }): QueryResult<T> => ({
    rows: r.rows as T[],
    rowCount: Math.max(r.rows.length, r.affectedRows ?? 0),
  })

  return {
    mode: 'embedded',
    async query<T>(sql: string, params?: unknown[]) {
      return asResult<T>(await pglite.query(sql, asParams(params), options))
    },
    async exec(sql: string) {
      await pglite.exec(sql)
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction(async (t) => {
        const tx: Queryable = {
          query: async <R>(sql: string, params?: unknown[]) => asResult<R>(await t.query(sql, asParams(params), options)),
          exec: async (sql: string) => void (await t.exec(sql)),
        }
        return fn(tx)
      })
    },
    async listen(channel, onNotify) {
      const unsub = await pglite.listen(channel, onNotify)
      return async () => unsub()
    },
    async close() {
      await pglite.close()
    },
  }
}

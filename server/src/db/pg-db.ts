import pg from 'pg'
import type { Db, QueryOptions, QueryResult, Queryable } from './types.ts'

// int8 (count(*), bigserial seq) → number: sequences stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export interface PgDbOptions {
  onError?: (err: Error, where: string) => void
}

/** Real PostgreSQL + PostGIS through a `pg` Pool. */
export function createPgDb(connectionString: string, opts: PgDbOptions = {}): Db {
  const onError = opts.onError ?? ((err, where) => console.error(`[db] ${where}:`, err.message))
  // JIT compilation costs tens of milliseconds per query and pays off only for long analytical scans, which this
  // server does not run (it added ~50 ms to a 10,000-point resolve of 400 ms).
  // plan_cache_mode: only NAMED statements are cached, and this server names only two, in repos/cases.ts: intake and
  // the possible-duplicates lookup, each written so that its generic plan is the right one whatever the parameters
  // (every lookup by the point, through GIST, or by a key; bench/explain-intake.ts checks intake's). Left to choose,
  // PostgreSQL re-plans intake on every run (its generic plan's estimate for unnest() looks worse than a custom
  // plan): planning that statement costs more than running it for five reports. A generic plan is only as good as
  // the statistics it was made from: db/statistics.ts keeps them where autovacuum does not. Unnamed statements (every
  // other query) are planned for their parameters each time, whatever this says.
  const pool = new pg.Pool({ connectionString, max: 10, idleTimeoutMillis: 30_000, options: '-c jit=off -c plan_cache_mode=force_generic_plan' })
  // A dropped idle connection emits 'error' on the pool; without a listener it would crash the process.
  pool.on('error', (err) => onError(err, 'idle client'))

  const listeners = new Map<string, Set<(payload: string) => void>>()
  let listenClient: pg.Client | undefined
  let connecting: Promise<void> | undefined
  let closed = false
  let retryTimer: NodeJS.Timeout | undefined

  async function connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString })
    client.on('error', (err) => {
      onError(err, 'listen connection')
      if (listenClient === client) listenClient = undefined
      scheduleReconnect()
    })
    client.on('end', () => {
      if (listenClient === client) {
        listenClient = undefined
        scheduleReconnect()
      }
    })
    client.on('notification', (msg) => {
      for (const cb of listeners.get(msg.channel) ?? []) cb(msg.payload ?? '')
    })
    await client.connect()
    for (const channel of listeners.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    listenClient = client
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer || listeners.size === 0) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      ensureListener().catch((err) => {
        onError(err, 'listen reconnect')
        scheduleReconnect()
      })
    }, 1000)
    retryTimer.unref()
  }

  async function ensureListener(): Promise<pg.Client> {
    if (!listenClient) {
      connecting ??= connectListener().finally(() => (connecting = undefined))
      await connecting
    }
    return listenClient!
  }

  const asResult = <T>(r: pg.QueryResult): QueryResult<T> => ({ rows: r.rows as T[], rowCount: r.rowCount ?? 0 })

  return {
    mode: 'postgres',
    async query<T>(sql: string, params?: unknown[], opts?: QueryOptions) {
      return asResult<T>(await pool.query(opts?.name ? { name: opts.name, text: sql, values: params } : { text: sql, values: params }))
    },
    async exec(sql: string) {
      await pool.query(sql)
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect()
      // While checked out the pool listens for nothing: a connection terminated between two statements
      // (pg_terminate_backend, a restart) would emit 'error' with no listener and bring the process down. The next
      // statement fails instead, and the broken client is destroyed on release instead of going back to the pool.
      let broken: Error | undefined
      const onBroken = (err: Error) => (broken = err)
      client.on('error', onBroken)
      try {
        await client.query('BEGIN')
        const tx: Queryable = {
          query: async <R>(sql: string, params?: unknown[], opts?: QueryOptions) =>
            asResult<R>(await client.query(opts?.name ? { name: opts.name, text: sql, values: params } : { text: sql, values: params })),
          exec: async (sql: string) => void (await client.query(sql)),
        }
        const result = await fn(tx)
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.off('error', onBroken)
        client.release(broken)
      }
    },
    async listen(channel, onNotify) {
      let set = listeners.get(channel)
      const first = !set
      if (!set) listeners.set(channel, (set = new Set()))
      set.add(onNotify)
      const client = await ensureListener()
      if (first) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      return async () => {
        set.delete(onNotify)
        if (set.size === 0) {
          listeners.delete(channel)
          await listenClient?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {})
        }
      }
    },
    async close() {
      closed = true
      clearTimeout(retryTimer)
      listeners.clear()
      await listenClient?.end().catch(() => {})
      await pool.end()
    },
  }
}

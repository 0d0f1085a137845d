/**
 * The small database interface everything above server/src/db/ uses. Two implementations: `pg` against a real
 * PostgreSQL + PostGIS (pg-db.ts) and PGlite + PostGIS in-process (embedded-db.ts). Same SQL for both.
 */
export interface QueryResult<T> {
  rows: T[]
  rowCount: number
}

export interface QueryOptions {
  name?: string
}

export interface Queryable {
  /**
   * One statement. `opts.name`: on PostgreSQL, prepare it under this name once per connection and reuse the plan
   * (for a hot, complex statement whose planning would cost more than its execution); the embedded database ignores
   * it. A name must always go with the same SQL text.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<QueryResult<T>>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export type DbMode = 'embedded' | 'postgres'

export interface Db extends Queryable {
  readonly mode: DbMode
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Inside, use only the
   * `tx` handed in — the embedded database serialises queries, so calling `db.query` there would deadlock.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * LISTEN on a channel; `onNotify` runs for every NOTIFY committed on it. Returns an unsubscribe function.
   * Delivery is best-effort (a connection can die): callers must also poll.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

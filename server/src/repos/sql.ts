/**
 * A parameter list for SQL built from optional filters: `add(v)` appends a value and returns its `$n`.
 * `where()` joins the collected conditions (each parenthesised) or returns '' when there are none.
 */
export class SqlBuilder {
  readonly params: unknown[] = []
  readonly conditions: string[] = []

  add(value: unknown): string {
    this.params.push(value)
    return `$${this.params.length}`
  }

  /** Adds a condition to the WHERE clause. */
  when(condition: string): this {
    this.conditions.push(condition)
    return this
  }

  /** `column && <envelope>` for a [west, south, east, north] box in WGS84. */
  bbox(column: string, [west, south, east, north]: readonly [number, number, number, number]): this {
    return this.when(`${column} && ST_MakeEnvelope(${this.add(west)}, ${this.add(south)}, ${this.add(east)}, ${this.add(north)}, 4326)`)
  }

  where(): string {
    return this.conditions.length ? `WHERE ${this.conditions.map((c) => `(${c})`).join(' AND ')}` : ''
  }
}

/**
 * A condition written into a query that another module owns — the caller's reach (auth/case-access.ts caseReach) —
 * with its parameters added to the query's own builder. A repository takes one instead of importing the rules.
 */
export type SqlCondition = (b: SqlBuilder) => string

/** Rows fetched with `LIMIT limit + 1`: the page, and the offset of the next one (null on the last page). */
export function page<T>(rows: T[], limit: number, offset: number): { items: T[]; nextOffset: number | null } {
  return { items: rows.slice(0, limit), nextOffset: rows.length > limit ? offset + limit : null }
}

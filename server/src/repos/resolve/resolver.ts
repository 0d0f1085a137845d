import type { RegionRef } from '../../../../shared/schemas/region.ts'
import type { Queryable } from '../../db/types.ts'
import { buildCellIndex, CELL_BOUNDARY, CELL_OUTSIDE, type CellIndex, type CellSource } from './cell-index.ts'
import { cellLookup } from './cell-lookup.ts'
import { RegionVersionWatch } from './freshness.ts'
import { resolvePoint, resolvePointsJson } from './sql-fallback.ts'
import { RESOLVE_SQL } from './statements.ts'

/** How long a failed build keeps the resolver on SQL alone before it tries again. */
const RETRY_AFTER_MS = 30_000

export interface ResolverOptions {
  /** Finest cell level (tests use coarse cells). */
  maxLevel?: number
  /**
   * With LISTEN: the longest a request may rely on notifications alone. A request finding the last read of
   * region_version older than this reads it first; older than half of it, reads it in the background. It bounds how
   * long a lost notification (a dropped LISTEN connection) can go unnoticed. Default 1000 ms.
   */
  recheckMs?: number
  /** false: no LISTEN; every request reads region_version (one round trip more per request). Default true. */
  listen?: boolean
}

export interface ResolverStats {
  /** Points answered from cells, by the exact test (boundary cells), and by SQL alone (no current index). */
  fromCells: number
  exact: number
  sqlOnly: number
  builds: number
  /** NOTIFYs received on gc_regions, and reads of region_version on their own (not the exact test's, not a build's). */
  notifications: number
  versionReads: number
  /** Reading the pieces plus building the index, ms (the event loop is given back every few ms meanwhile). */
  lastBuildMs: number | null
  lastError: string | null
}

/**
 * Resolution through the cell index of this process. An index built from an older region_version than the newest
 * this process knows of is never used: the request is answered by SQL alone and a rebuild starts in the background
 * (one at a time). The newest version is learnt from
 * - NOTIFY gc_regions (migration 014), sent by the transaction that changes the regions and delivered when it
 *   commits: the index is outdated as soon as the notification arrives, within a millisecond or so here;
 * - every exact test (boundary points), which reads the version in the same snapshot;
 * - a read of region_version when the last one is older than `recheckMs` (at most once per recheckMs under load,
 *   in the background), which bounds the window of a lost notification;
 * - `invalidate()`, called by this process after a change it made itself (the boundary import), so that its very
 *   next request reads the version: read-your-writes.
 * Without LISTEN (a Queryable with no listen(), or listen: false) every request reads the version, the strict way.
 * So an answer from cells may lag a change committed by another process by the notification's delivery time; a
 * case's grid is always resolved by SQL inside its own transaction (services/cases.ts), never from cells.
 */
export class RegionResolver {
  private index: CellIndex | null = null
  private building: Promise<CellIndex> | null = null
  private failedAt = -Infinity
  private refs: Array<RegionRef[] | undefined> = []
  /** The newest region_version known, and whether the index may answer (freshness.ts). */
  private readonly versions: RegionVersionWatch
  readonly stats: ResolverStats = {
    fromCells: 0, exact: 0, sqlOnly: 0, builds: 0, notifications: 0, versionReads: 0, lastBuildMs: null, lastError: null,
  }
  onError: ((err: unknown) => void) | undefined

  constructor(
    private readonly db: Queryable,
    private readonly options: ResolverOptions = {},
  ) {
    this.versions = new RegionVersionWatch(db, { recheckMs: options.recheckMs ?? 1000, listen: options.listen }, this.stats, {
      notified: () => {
        if (this.index && this.index.version < this.versions.latest) this.refresh()
      },
      onError: (err) => this.onError?.(err),
    })
  }

  /** Starts listening and a build unless there is an index or one is being built. */
  warm(): void {
    void this.versions.subscribe()
    if (!this.index) this.refresh()
  }

  /** The index once it is current (built from the version the database holds now); for tests and benchmarks. */
  async ready(): Promise<CellIndex> {
    await this.versions.subscribe()
    for (;;) {
      const version = await this.versions.readVersion()
      if (this.index && this.index.version >= version) return this.index
      await (this.building ?? this.startBuild())
    }
  }

  /** A change this process made has committed: the next request reads region_version before using the index. */
  invalidate(): void {
    this.versions.invalidate()
  }

  /** Stops listening (the database handle stays open). */
  close(): Promise<void> {
    return this.versions.close()
  }

  /** The chains for WGS84 `points` as a JSON array text (as resolvePointsJson), in input order, null outside. */
  async resolveJson(points: ReadonlyArray<readonly [number, number]>): Promise<string> {
    const idx = this.current()
    if (!idx) {
      this.stats.sqlOnly += points.length
      return resolvePointsJson(this.db, points)
    }
    const parts = new Array<string>(points.length)
    const open: number[] = []
    for (let k = 0; k < points.length; k++) {
      const v = cellLookup(idx, points[k][0], points[k][1])
      if (v >= 0) parts[k] = idx.chains[v]
      else if (v === CELL_OUTSIDE) parts[k] = 'null'
      else open.push(k)
    }
    const ids = await this.exact(idx, open.map((k) => points[k]))
    if (!ids) {
      this.stats.sqlOnly += points.length
      return resolvePointsJson(this.db, points)
    }
    open.forEach((k, i) => (parts[k] = ids[i] === null ? 'null' : idx.chains[ids[i]!]))
    this.stats.fromCells += points.length - open.length
    this.stats.exact += open.length
    return `[${parts.join(',')}]`
  }

  /** The chain (district first) of the finest region covering (lon, lat), WGS84, or null outside every region. */
  async resolveOne(lon: number, lat: number): Promise<RegionRef[] | null> {
    const idx = this.current()
    if (idx) {
      const v = cellLookup(idx, lon, lat)
      if (v !== CELL_BOUNDARY) {
        if (await this.fresh(idx)) {
          this.stats.fromCells++
          return v === CELL_OUTSIDE ? null : this.chainOf(idx, v)
        }
      } else {
        const ids = await this.exact(idx, [[lon, lat]])
        if (ids) {
          this.stats.exact++
          return ids[0] === null ? null : this.chainOf(idx, ids[0])
        }
      }
    }
    this.stats.sqlOnly++
    const { regions } = await resolvePoint(this.db, lon, lat)
    return regions.length ? regions : null
  }

  private chainOf(idx: CellIndex, rank: number): RegionRef[] {
    if (idx !== this.index) return JSON.parse(idx.chains[rank]) as RegionRef[]
    return (this.refs[rank] ??= JSON.parse(idx.chains[rank]) as RegionRef[])
  }

  /** The index, unless a newer version is known (then a rebuild is under way). */
  private current(): CellIndex | null {
    void this.versions.subscribe()
    const idx = this.index
    if (idx && idx.version >= this.versions.latest) return idx
    this.refresh()
    return null
  }

  /** Whether `idx` may answer now (freshness.ts); when not, a rebuild starts. */
  private fresh(idx: CellIndex): boolean | Promise<boolean> {
    return this.versions.allows(idx.version, () => this.stale())
  }

  /**
   * The exact test for `points` (their ranks, null outside) in the snapshot that also says the index is current;
   * null when it is not (the caller falls back on SQL alone).
   */
  private async exact(idx: CellIndex, points: ReadonlyArray<readonly [number, number]>): Promise<Array<number | null> | null> {
    if (points.length === 0) return (await this.fresh(idx)) ? [] : null
    const issued = performance.now()
    const { rows } = await this.db.query<{ version: number; ids: string }>(RESOLVE_SQL.exactIds, [points.map((p) => p[0]), points.map((p) => p[1])])
    this.versions.saw(Number(rows[0].version), issued)
    if (Number(rows[0].version) !== idx.version) {
      this.stale()
      return null
    }
    const ranks = (JSON.parse(rows[0].ids) as Array<string | null>).map((id) => (id === null ? null : idx.rankById.get(id)))
    // Same version, same pieces: every id is in the index. Were one missing (a bug), SQL alone is still right.
    return ranks.includes(undefined) ? null : (ranks as Array<number | null>)
  }

  /** The index is older than the database: SQL alone until the rebuild is done. */
  private stale(): false {
    this.refresh()
    return false
  }

  private refresh(): void {
    if (this.building || performance.now() - this.failedAt < RETRY_AFTER_MS) return
    this.startBuild().catch(() => {})
  }

  private startBuild(): Promise<CellIndex> {
    const started = performance.now()
    const build = (async () => {
      const { rows } = await this.db.query<{ version: number; regionId: string | null; chain: string; wkb: Uint8Array }>(RESOLVE_SQL.cellSource)
      this.versions.saw(Number(rows[0].version), started)
      const pieces = rows.filter((r) => r.regionId !== null) as CellSource[]
      return buildCellIndex(Number(rows[0].version), pieces, { maxLevel: this.options.maxLevel })
    })()
    this.building = build
    build.then(
      (idx) => {
        // Built from the state committed when it started: newer than the one it replaces (one build at a time).
        this.index = idx
        this.refs = []
        this.stats.builds++
        this.stats.lastBuildMs = performance.now() - started
        this.stats.lastError = null
      },
      (err: unknown) => {
        this.failedAt = performance.now()
        this.stats.lastError = err instanceof Error ? err.message : String(err)
        this.onError?.(err)
      },
    ).finally(() => {
      if (this.building !== build) return
      this.building = null
      // A change that committed while it was being built: build again.
      if (this.index && this.index.version < this.versions.latest) this.refresh()
    })
    return build
  }
}

const resolvers = new WeakMap<Queryable, RegionResolver>()

/** The resolver of `db` in this process (one per database handle, shared by every app built on it). */
export function regionResolver(db: Queryable): RegionResolver {
  let r = resolvers.get(db)
  if (!r) resolvers.set(db, (r = new RegionResolver(db)))
  return r
}

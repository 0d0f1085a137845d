import type { Db, Queryable } from '../../db/types.ts'
import { RESOLVE_SQL } from './statements.ts'

/** Channel of migration 014: every bump of region_version sends the new version, delivered at commit. */
export const REGIONS_CHANNEL = 'gc_regions'

/** What the watch counts, in the resolver's stats (resolver.ts ResolverStats). */
export interface VersionWatchStats {
  notifications: number
  versionReads: number
  lastError: string | null
}

/**
 * The newest region_version this process knows of, and whether a cell index built from a given version may answer
 * now — the freshness rules of RegionResolver (resolver.ts): notifications on gc_regions, every read of the version
 * (its own, the exact test's, a build's), a read when the last one is older than `recheckMs`, and `invalidate()`
 * after a change this process made itself. Without LISTEN every question reads the version.
 */
export class RegionVersionWatch {
  /** The newest region_version known to exist (notifications, reads, builds). */
  latest = 0
  /** When (performance.now()) the last read of region_version that saw `latest` was issued. */
  private confirmedAt = -Infinity
  private listening = false
  private subscribing: Promise<void> | null = null
  private unlisten: (() => Promise<void>) | null = null
  private checking: Promise<void> | null = null

  constructor(
    private readonly db: Queryable,
    private readonly options: { recheckMs: number; listen?: boolean },
    private readonly stats: VersionWatchStats,
    private readonly hooks: {
      /** A notification raised `latest` (or repeated it): the resolver rebuilds if its index is older. */
      notified: () => void
      onError: (err: unknown) => void
    },
  ) {}

  /** Starts listening on gc_regions once (a Queryable without listen(), or listen: false: never). */
  subscribe(): Promise<void> {
    if (this.subscribing) return this.subscribing
    const db = this.db as Queryable & Partial<Pick<Db, 'listen'>>
    if (this.options.listen === false || typeof db.listen !== 'function') return (this.subscribing = Promise.resolve())
    this.subscribing = db
      .listen(REGIONS_CHANNEL, (payload) => {
        this.stats.notifications++
        const version = Number(payload)
        if (Number.isFinite(version) && version > this.latest) this.latest = version
        this.hooks.notified()
      })
      .then(
        (unlisten) => {
          this.unlisten = unlisten
          // A change may have committed before LISTEN took effect: the next request reads the version first.
          this.confirmedAt = -Infinity
          this.listening = true
        },
        (err: unknown) => {
          // Without notifications every request reads the version, as correct and one round trip slower.
          this.stats.lastError = err instanceof Error ? err.message : String(err)
          this.hooks.onError(err)
        },
      )
    return this.subscribing
  }

  /** A change this process made has committed: the next question reads region_version first. */
  invalidate(): void {
    this.confirmedAt = -Infinity
  }

  /** Stops listening (the database handle stays open). */
  async close(): Promise<void> {
    await this.subscribing
    const unlisten = this.unlisten
    this.unlisten = null
    this.listening = false
    await unlisten?.()
  }

  /**
   * Whether an index built from `version` may answer now: at once when notifications and a recent read say so (no
   * round trip), else after reading region_version. `stale` is called (and answers false) when it may not.
   */
  allows(version: number, stale: () => false): boolean | Promise<boolean> {
    if (this.listening) {
      const age = performance.now() - this.confirmedAt
      if (age < this.options.recheckMs) {
        if (age > this.options.recheckMs / 2) void this.recheck()
        return version >= this.latest || stale()
      }
    }
    return this.readVersion().then((v) => version >= v || stale())
  }

  /** One background read of region_version at a time. */
  private recheck(): Promise<void> {
    return (this.checking ??= this.readVersion().then(
      () => {
        this.checking = null
      },
      (err: unknown) => {
        this.checking = null
        this.hooks.onError(err)
      },
    ))
  }

  /** Reads region_version (and records what it saw). */
  async readVersion(): Promise<number> {
    const issued = performance.now()
    this.stats.versionReads++
    const { rows } = await this.db.query<{ version: number }>(RESOLVE_SQL.regionVersion)
    const version = Number(rows[0]?.version ?? 0)
    this.saw(version, issued)
    return version
  }

  /** A read issued at `issued` saw `version`. */
  saw(version: number, issued: number): void {
    if (version > this.latest) this.latest = version
    if (version === this.latest && issued > this.confirmedAt) this.confirmedAt = issued
  }
}

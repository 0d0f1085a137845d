import type { RegionRef } from '../../../shared/schemas/region.ts'
import type { Db, Queryable } from '../db/types.ts'

/**
 * Point → region chain.
 *
 * The rule, exact and deterministic: for each point the finest region that covers it (boundary included,
 * ST_Covers) is chosen, and on a shared edge or vertex the lowest id wins, every time. The chain is that region's
 * ancestors, so a child's answer always agrees with its parent's. Current boundaries come from `region_parts`
 * (migration 006: the same regions subdivided, each piece carrying its chain); with `asOf`, the boundaries valid at
 * that time (regions_as_of) are used instead, whole.
 *
 * Two ways to the same answer:
 * - SQL alone (resolvePointsJson and friends): any number of points in ONE query, the JSON built by PostgreSQL.
 * - A cell index in this process (RegionResolver, below), for the API: the points far from every edge are answered
 *   from memory and only those near an edge go through the same SQL. It is kept against a version counter
 *   (migration 009), whose bumps are also sent by NOTIFY (migration 014): see RegionResolver.
 */
const POINTS = `
  pts AS (
    SELECT u.ord, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS pt
      FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, ord))`

/** The finest piece covering p.pt, lowest region id on a tie: THE rule, shared by both ways. */
const FINEST_PART = `
    LEFT JOIN LATERAL (
      SELECT r.region_id, r.chain FROM region_parts r WHERE ST_Covers(r.geom, p.pt) ORDER BY r.level DESC, r.region_id LIMIT 1) f ON true`

const RESOLVE_CURRENT = `
  WITH ${POINTS}
  SELECT coalesce(json_agg(f.chain ORDER BY p.ord), '[]')::text AS results
    FROM pts p ${FINEST_PART}`

const RESOLVE_AS_OF = `
  WITH ${POINTS},
  finest AS (
    SELECT p.ord, f.path
      FROM pts p
      LEFT JOIN LATERAL (
        SELECT r.path FROM regions_as_of($3::timestamptz) r WHERE ST_Covers(r.geom, p.pt)
         ORDER BY r.level DESC, r.id LIMIT 1) f ON true)
  SELECT coalesce(json_agg(
           (SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'level', a.level) ORDER BY a.level)
              FROM regions_as_of($3::timestamptz) a WHERE a.id = ANY (string_to_array(f.path::text, '.')))
           ORDER BY f.ord), '[]')::text AS results
    FROM finest f`

/** The chains for `points` ([lon, lat] in WGS84) as a JSON array text, in input order, null outside coverage. */
export async function resolvePointsJson(q: Queryable, points: ReadonlyArray<readonly [number, number]>, asOf?: Date): Promise<string> {
  const params: unknown[] = [points.map((p) => p[0]), points.map((p) => p[1])]
  if (asOf) params.push(asOf.toISOString())
  const { rows } = await q.query<{ results: string }>(asOf ? RESOLVE_AS_OF : RESOLVE_CURRENT, params)
  return rows[0].results
}

export interface ResolvedChain {
  /** District first, down to the finest level containing the point; [] when outside every region. */
  regions: RegionRef[]
  /** ltree path of the finest region (ids joined by '.'), or null when outside every region. */
  path: string | null
}

export async function resolvePoints(q: Queryable, points: ReadonlyArray<readonly [number, number]>, asOf?: Date): Promise<ResolvedChain[]> {
  const chains = JSON.parse(await resolvePointsJson(q, points, asOf)) as Array<RegionRef[] | null>
  return chains.map((regions) =>
    regions ? { regions: regions.map(({ id, name, level }) => ({ id, name, level })), path: regions.map((r) => r.id).join('.') } : { regions: [], path: null },
  )
}

export async function resolvePoint(q: Queryable, lon: number, lat: number, asOf?: Date): Promise<ResolvedChain> {
  return (await resolvePoints(q, [[lon, lat]], asOf))[0]
}

// ---------------------------------------------------------------------------------------------------------------
// The cell index
//
// The extent of the regions is cut into square cells of 2^-k degrees (k = 14: about 6 m; coarser when the regions
// are so large that the index would pass its memory budget), in rows of constant latitude. A cell is either
//   - OWNED: no edge of any piece of any region comes within EPS of it, so every point in it is covered by the same
//     set of regions, strictly inside each; the answer is the finest of them (lowest id on a tie), or none;
//   - BOUNDARY: some edge comes within EPS; its points take the exact SQL test.
// EPS (1e-9°, 0.1 mm) dwarfs every floating-point error involved (about 1e-13° at these magnitudes): the edges'
// cells are found with every distance widened by 2·EPS, and a point mapped to a cell by one rounding lies within
// 1e-14° of it. So an owned cell's answer is the answer ST_Covers gives for every point in it, and the only points
// whose answer could hinge on rounding (those within EPS of an edge) are never answered from cells.
//
// Who owns the cells of a row between two boundary cells: the parity of crossings of the row's centre line by the
// regions' edges to their left (even-odd, ring by ring, half-open at vertices), counted per region. The pieces of a
// region are its polygons here: their shared cut lines cross twice at the same place, and are boundary cells anyway.
//
// Rows are run-length encoded: each row is a sorted list of (first cell, value) runs; a lookup is one binary
// search. Memory grows with the length of the edges (about 2 runs per edge crossing a row), not with the area.
// ---------------------------------------------------------------------------------------------------------------

/** A cell value: ≥ 0 is the rank of the owning region (index into `chains`); these two are the others. */
export const CELL_OUTSIDE = -1
export const CELL_BOUNDARY = -2

const EPS = 1e-9
const MAX_LEVEL = 14
const MIN_LEVEL = 6
/** At most this many (edge, row) pairs, an estimate of the work and (doubled) of the runs: the level is lowered until it fits. */
const ROW_EDGE_BUDGET = 8_000_000

export interface CellIndex {
  /** region_version the index was built from (migration 009). */
  version: number
  /** Cells are 2^-level degrees square. */
  level: number
  /** South-west corner of cell (0, 0), a multiple of the cell size. */
  x0: number
  y0: number
  rows: number
  /** Runs of row j: runStart/runValue[rowStart[j] .. rowStart[j + 1]); before the first run of a row: outside. */
  rowStart: Int32Array
  runStart: Int32Array
  runValue: Int32Array
  /** By rank (finest level first, then region id in the database's order): region id and chain as JSON text. */
  ids: string[]
  chains: string[]
  rankById: Map<string, number>
  /** Build time and size, for the benchmark and tests. */
  stats: { regions: number; pieces: number; edges: number; runs: number; buildMs: number }
}

/** One piece of a region, as read from region_parts, in rank order. */
export interface CellSource {
  regionId: string
  chain: string
  /** ISO WKB of a Polygon or MultiPolygon (2D). */
  wkb: Uint8Array
}

/** The rings of a WKB (Multi)Polygon as flat [x0, y0, x1, y1, …] arrays, closed (first point repeated last). */
export function wkbRings(wkb: Uint8Array): Float64Array[] {
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength)
  let at = 0
  const rings: Float64Array[] = []
  const header = () => {
    const le = view.getUint8(at) === 1
    const type = view.getUint32(at + 1, le)
    at += 5
    return { le, type }
  }
  const polygon = (le: boolean) => {
    const n = view.getUint32(at, le)
    at += 4
    for (let r = 0; r < n; r++) {
      const points = view.getUint32(at, le)
      at += 4
      const ring = new Float64Array(points * 2)
      for (let i = 0; i < points * 2; i++, at += 8) ring[i] = view.getFloat64(at, le)
      rings.push(ring)
    }
  }
  const { le, type } = header()
  if (type === 3) polygon(le)
  else if (type === 6) {
    const n = view.getUint32(at, le)
    at += 4
    for (let i = 0; i < n; i++) {
      const h = header()
      if (h.type !== 3) throw new Error(`WKB: a MultiPolygon holding type ${h.type}`)
      polygon(h.le)
    }
  } else throw new Error(`WKB: type ${type} is not a (Multi)Polygon`)
  return rings
}

/** A growable Int32Array. */
class IntList {
  a = new Int32Array(1024)
  n = 0
  push(v: number) {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2)
      b.set(this.a)
      this.a = b
    }
    this.a[this.n++] = v
  }
  done() {
    return this.a.slice(0, this.n)
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Builds the index from the pieces (in rank order). Gives the event loop back every few milliseconds, so a
 * server keeps answering (from SQL) while it builds.
 */
export async function buildCellIndex(version: number, pieces: CellSource[], opts: { maxLevel?: number; sliceMs?: number } = {}): Promise<CellIndex> {
  const t0 = performance.now()
  const sliceMs = opts.sliceMs ?? 4
  let sliceStart = performance.now()
  const maybeYield = async () => {
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop()
      sliceStart = performance.now()
    }
  }

  // Regions by rank, and every edge of every piece.
  const ids: string[] = []
  const chains: string[] = []
  const rankById = new Map<string, number>()
  let nEdges = 0
  const ringsByPiece: Float64Array[][] = []
  const rankByPiece: number[] = []
  for (const p of pieces) {
    let rank = rankById.get(p.regionId)
    if (rank === undefined) {
      rank = ids.length
      rankById.set(p.regionId, rank)
      ids.push(p.regionId)
      chains.push(p.chain)
    }
    const rings = wkbRings(p.wkb)
    for (const r of rings) nEdges += r.length / 2 - 1
    ringsByPiece.push(rings)
    rankByPiece.push(rank)
    await maybeYield()
  }
  const ex1 = new Float64Array(nEdges)
  const ey1 = new Float64Array(nEdges)
  const ex2 = new Float64Array(nEdges)
  const ey2 = new Float64Array(nEdges)
  const erank = new Int32Array(nEdges)
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  let sumDy = 0
  for (let pi = 0, e = 0; pi < ringsByPiece.length; pi++) {
    for (const r of ringsByPiece[pi])
      for (let i = 2; i < r.length; i += 2) {
        ex1[e] = r[i - 2]
        ey1[e] = r[i - 1]
        ex2[e] = r[i]
        ey2[e] = r[i + 1]
        erank[e] = rankByPiece[pi]
        minX = Math.min(minX, r[i])
        maxX = Math.max(maxX, r[i])
        minY = Math.min(minY, r[i + 1])
        maxY = Math.max(maxY, r[i + 1])
        sumDy += Math.abs(r[i + 1] - r[i - 1])
        e++
      }
    if (pi % 256 === 0) await maybeYield()
  }
  const empty = (level: number): CellIndex => ({
    version, level, x0: 0, y0: 0, rows: 0, rowStart: new Int32Array(1), runStart: new Int32Array(0), runValue: new Int32Array(0),
    ids, chains, rankById, stats: { regions: ids.length, pieces: pieces.length, edges: nEdges, runs: 0, buildMs: performance.now() - t0 },
  })
  if (nEdges === 0) return empty(MIN_LEVEL)

  // The finest level within the budget.
  let level = opts.maxLevel ?? MAX_LEVEL
  while (level > MIN_LEVEL && sumDy * 2 ** level + 2 * nEdges > ROW_EDGE_BUDGET) level--
  const scale = 2 ** level
  const size = 1 / scale
  // One empty cell of margin all round: a point mapped outside the grid is at least a cell away from every region.
  const x0 = Math.floor(minX * scale) / scale - size
  const y0 = Math.floor(minY * scale) / scale - size
  const rows = Math.floor((maxY - y0) * scale) + 2
  const cellX = (x: number) => Math.floor((x - x0) * scale)
  const cellY = (y: number) => Math.floor((y - y0) * scale)
  const m = 2 * EPS

  // Edges by the rows they come near (compressed: rowEdges[edgeStart[j] .. edgeStart[j + 1])).
  const edgeStart = new Int32Array(rows + 1)
  for (let e = 0; e < nEdges; e++) {
    const ja = Math.max(0, cellY(Math.min(ey1[e], ey2[e]) - m))
    const jb = Math.min(rows - 1, cellY(Math.max(ey1[e], ey2[e]) + m))
    for (let j = ja; j <= jb; j++) edgeStart[j + 1]++
    if (e % 4096 === 0) await maybeYield()
  }
  for (let j = 0; j < rows; j++) edgeStart[j + 1] += edgeStart[j]
  const rowEdges = new Int32Array(edgeStart[rows])
  {
    const fill = edgeStart.slice(0, rows)
    for (let e = 0; e < nEdges; e++) {
      const ja = Math.max(0, cellY(Math.min(ey1[e], ey2[e]) - m))
      const jb = Math.min(rows - 1, cellY(Math.max(ey1[e], ey2[e]) + m))
      for (let j = ja; j <= jb; j++) rowEdges[fill[j]++] = e
      if (e % 4096 === 0) await maybeYield()
    }
  }
  await maybeYield()

  // Row by row: the edges' cells (merged), the crossings of the centre line, the runs.
  const rowStart = new Int32Array(rows + 1)
  const runStart = new IntList()
  const runValue = new IntList()
  const nRegions = ids.length
  const parity = new Uint8Array(nRegions)
  const active: number[] = []
  let maxInRow = 0
  for (let j = 0; j < rows; j++) maxInRow = Math.max(maxInRow, edgeStart[j + 1] - edgeStart[j])
  const starts = new Int32Array(maxInRow)
  const ends = new Int32Array(maxInRow)
  const crossings = new Float64Array(maxInRow)
  for (let j = 0; j < rows; j++) {
    rowStart[j] = runStart.n
    const first = edgeStart[j]
    const count = edgeStart[j + 1] - first
    if (count === 0) continue
    const yb = y0 + j * size
    const yt = yb + size
    const yc = yb + size / 2
    let nc = 0
    for (let k = 0; k < count; k++) {
      const e = rowEdges[first + k]
      const xa = ex1[e]
      const ya = ey1[e]
      const xb = ex2[e]
      const yb2 = ey2[e]
      let lo: number
      let hi: number
      if (ya === yb2) {
        lo = Math.min(xa, xb)
        hi = Math.max(xa, xb)
      } else {
        // The part of the edge within the row widened by m, as an x range.
        const ylo = Math.max(Math.min(ya, yb2), yb - m)
        const yhi = Math.min(Math.max(ya, yb2), yt + m)
        const t = (xb - xa) / (yb2 - ya)
        const p = xa + (ylo - ya) * t
        const q = xa + (yhi - ya) * t
        lo = Math.min(p, q)
        hi = Math.max(p, q)
        if (ya > yc !== yb2 > yc) crossings[nc++] = cellX(xa + (yc - ya) * t) * nRegions + erank[e]
      }
      starts[k] = cellX(lo - m)
      ends[k] = cellX(hi + m)
    }
    const s = starts.subarray(0, count).sort()
    const en = ends.subarray(0, count).sort()
    const cr = crossings.subarray(0, nc).sort()
    // Union of the intervals [s[i], en[i]] (adjacent ones merged): a sweep over the sorted starts and ends, which
    // needs no pairing since the k-th smallest end is never below the k-th smallest start.
    let i = 0
    let k = 0
    let c = 0
    while (i < count) {
      const a = s[i]
      let b = a
      let depth = 0
      for (;;) {
        if (i < count && s[i] <= en[k] + 1) {
          depth++
          i++
        } else {
          b = en[k++]
          if (--depth === 0) break
        }
      }
      runStart.push(a)
      runValue.push(CELL_BOUNDARY)
      // The crossings in this union toggle their region.
      while (c < nc && Math.floor(cr[c] / nRegions) <= b) {
        const rank = cr[c] - Math.floor(cr[c] / nRegions) * nRegions
        if ((parity[rank] ^= 1)) active.push(rank)
        else active.splice(active.indexOf(rank), 1)
        c++
      }
      let owner = CELL_OUTSIDE
      for (const r of active) if (owner === CELL_OUTSIDE || r < owner) owner = r
      runStart.push(b + 1)
      runValue.push(owner)
    }
    // Rings are closed: every parity is even again at the end of a row (reset anyway, should rounding disagree).
    for (const r of active) parity[r] = 0
    active.length = 0
    await maybeYield()
  }
  rowStart[rows] = runStart.n
  return {
    version, level, x0, y0, rows, rowStart, runStart: runStart.done(), runValue: runValue.done(), ids, chains, rankById,
    stats: { regions: nRegions, pieces: pieces.length, edges: nEdges, runs: runStart.n, buildMs: performance.now() - t0 },
  }
}

/** The value of the cell holding (lon, lat): a rank ≥ 0, CELL_OUTSIDE or CELL_BOUNDARY. */
export function cellLookup(index: CellIndex, lon: number, lat: number): number {
  const scale = 2 ** index.level
  const j = Math.floor((lat - index.y0) * scale)
  if (!(j >= 0 && j < index.rows)) return CELL_OUTSIDE
  const i = Math.floor((lon - index.x0) * scale)
  let lo = index.rowStart[j]
  let hi = index.rowStart[j + 1] - 1
  const starts = index.runStart
  // Last run starting at or before i.
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (starts[mid] <= i) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found < 0 ? CELL_OUTSIDE : index.runValue[found]
}

// ---------------------------------------------------------------------------------------------------------------
// The resolver: the cell index of this process, kept current against region_version.
// ---------------------------------------------------------------------------------------------------------------

const VERSION = 'SELECT version FROM region_version'

/** Channel of migration 014: every bump of region_version sends the new version, delivered at commit. */
export const REGIONS_CHANNEL = 'gc_regions'

/** The exact test for the points the cells leave open, and the version, in one statement (one snapshot). */
const EXACT_IDS = `
  WITH ${POINTS}
  SELECT (SELECT version FROM region_version) AS version,
         (SELECT coalesce(json_agg(f.region_id ORDER BY p.ord), '[]') FROM pts p ${FINEST_PART})::text AS ids`

/** Everything the index is built from, with its version, in one statement; pieces in rank order (FINEST_PART's). */
const CELL_SOURCE = `
  SELECT v.version, p.region_id AS "regionId", p.chain::text AS chain, ST_AsBinary(p.geom) AS wkb
    FROM region_version v LEFT JOIN region_parts p ON true
   ORDER BY p.level DESC, p.region_id`

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
  /** The newest region_version known to exist (notifications, reads, builds). */
  private latest = 0
  /** When (performance.now()) the last read of region_version that saw `latest` was issued. */
  private confirmedAt = -Infinity
  private listening = false
  private subscribing: Promise<void> | null = null
  private unlisten: (() => Promise<void>) | null = null
  private checking: Promise<void> | null = null
  private readonly recheckMs: number
  readonly stats: ResolverStats = {
    fromCells: 0, exact: 0, sqlOnly: 0, builds: 0, notifications: 0, versionReads: 0, lastBuildMs: null, lastError: null,
  }
  onError: ((err: unknown) => void) | undefined

  constructor(
    private readonly db: Queryable,
    private readonly options: ResolverOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 1000
  }

  /** Starts listening and a build unless there is an index or one is being built. */
  warm(): void {
    void this.subscribe()
    if (!this.index) this.refresh()
  }

  /** The index once it is current (built from the version the database holds now); for tests and benchmarks. */
  async ready(): Promise<CellIndex> {
    await this.subscribe()
    for (;;) {
      const version = await this.readVersion()
      if (this.index && this.index.version >= version) return this.index
      await (this.building ?? this.startBuild())
    }
  }

  /** A change this process made has committed: the next request reads region_version before using the index. */
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
    if (!this.subscribing) void this.subscribe()
    const idx = this.index
    if (idx && idx.version >= this.latest) return idx
    this.refresh()
    return null
  }

  /**
   * Whether `idx` may answer now: at once when notifications and a recent read say so (no round trip), else after
   * reading region_version.
   */
  private fresh(idx: CellIndex): boolean | Promise<boolean> {
    if (this.listening) {
      const age = performance.now() - this.confirmedAt
      if (age < this.recheckMs) {
        if (age > this.recheckMs / 2) void this.recheck()
        return idx.version >= this.latest || this.stale()
      }
    }
    return this.readVersion().then((v) => idx.version >= v || this.stale())
  }

  /** One background read of region_version at a time. */
  private recheck(): Promise<void> {
    return (this.checking ??= this.readVersion().then(
      () => {
        this.checking = null
      },
      (err: unknown) => {
        this.checking = null
        this.onError?.(err)
      },
    ))
  }

  /**
   * The exact test for `points` (their ranks, null outside) in the snapshot that also says the index is current;
   * null when it is not (the caller falls back on SQL alone).
   */
  private async exact(idx: CellIndex, points: ReadonlyArray<readonly [number, number]>): Promise<Array<number | null> | null> {
    if (points.length === 0) return (await this.fresh(idx)) ? [] : null
    const issued = performance.now()
    const { rows } = await this.db.query<{ version: number; ids: string }>(EXACT_IDS, [points.map((p) => p[0]), points.map((p) => p[1])])
    this.saw(Number(rows[0].version), issued)
    if (Number(rows[0].version) !== idx.version) {
      this.stale()
      return null
    }
    const ranks = (JSON.parse(rows[0].ids) as Array<string | null>).map((id) => (id === null ? null : idx.rankById.get(id)))
    // Same version, same pieces: every id is in the index. Were one missing (a bug), SQL alone is still right.
    return ranks.includes(undefined) ? null : (ranks as Array<number | null>)
  }

  /** Reads region_version (and records what it saw). */
  private async readVersion(): Promise<number> {
    const issued = performance.now()
    this.stats.versionReads++
    const { rows } = await this.db.query<{ version: number }>(VERSION)
    const version = Number(rows[0]?.version ?? 0)
    this.saw(version, issued)
    return version
  }

  /** A read issued at `issued` saw `version`. */
  private saw(version: number, issued: number): void {
    if (version > this.latest) this.latest = version
    if (version === this.latest && issued > this.confirmedAt) this.confirmedAt = issued
  }

  /** The index is older than the database: SQL alone until the rebuild is done. */
  private stale(): false {
    this.refresh()
    return false
  }

  private subscribe(): Promise<void> {
    if (this.subscribing) return this.subscribing
    const db = this.db as Queryable & Partial<Pick<Db, 'listen'>>
    if (this.options.listen === false || typeof db.listen !== 'function') return (this.subscribing = Promise.resolve())
    this.subscribing = db
      .listen(REGIONS_CHANNEL, (payload) => {
        this.stats.notifications++
        const version = Number(payload)
        if (Number.isFinite(version) && version > this.latest) this.latest = version
        if (this.index && this.index.version < this.latest) this.refresh()
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
          this.onError?.(err)
        },
      )
    return this.subscribing
  }

  private refresh(): void {
    if (this.building || performance.now() - this.failedAt < RETRY_AFTER_MS) return
    this.startBuild().catch(() => {})
  }

  private startBuild(): Promise<CellIndex> {
    const started = performance.now()
    const build = (async () => {
      const { rows } = await this.db.query<{ version: number; regionId: string | null; chain: string; wkb: Uint8Array }>(CELL_SOURCE)
      this.saw(Number(rows[0].version), started)
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
      if (this.index && this.index.version < this.latest) this.refresh()
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

import { wkbRings } from '../wkb.ts'

/**
 * The cell index: the regions' pieces (region_parts) cut into cells, built in this process from their geometry.
 *
 * The extent of the regions is cut into square cells of 2^-k degrees (k = 14: about 6 m; coarser when the regions
 * are so large that the index would pass its memory budget), in rows of constant latitude. A cell is either
 *   - OWNED: no edge of any piece of any region comes within EPS of it, so every point in it is covered by the same
 *     set of regions, strictly inside each; the answer is the finest of them (lowest id on a tie), or none;
 *   - BOUNDARY: some edge comes within EPS; its points take the exact SQL test.
 * EPS (1e-9°, 0.1 mm) dwarfs every floating-point error involved (about 1e-13° at these magnitudes): the edges'
 * cells are found with every distance widened by 2·EPS, and a point mapped to a cell by one rounding lies within
 * 1e-14° of it. So an owned cell's answer is the answer ST_Covers gives for every point in it, and the only points
 * whose answer could hinge on rounding (those within EPS of an edge) are never answered from cells.
 *
 * Who owns the cells of a row between two boundary cells: the parity of crossings of the row's centre line by the
 * regions' edges to their left (even-odd, ring by ring, half-open at vertices), counted per region. The pieces of a
 * region are its polygons here: their shared cut lines cross twice at the same place, and are boundary cells anyway.
 *
 * Rows are run-length encoded: each row is a sorted list of (first cell, value) runs; a lookup is one binary
 * search. Memory grows with the length of the edges (about 2 runs per edge crossing a row), not with the area.
 */

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

/**
 * The area a patrol walks (a grid, or a leader's micro-grid), planar in degrees — fine at the scale of a grid: inside
 * tests, straight paths that stay clear of every edge, random points to walk to.
 */

export const M_PER_DEG_LAT = 110_574
/** Waypoints and paths stay at least this far from every edge, so the database agrees they are inside (ST_Covers). */
const EDGE_MARGIN_M = 1

export class Area {
  /** Edges as flat arrays: x1, y1, x2, y2. */
  private readonly ex1: Float64Array
  private readonly ey1: Float64Array
  private readonly ex2: Float64Array
  private readonly ey2: Float64Array
  readonly minX: number
  readonly minY: number
  readonly maxX: number
  readonly maxY: number
  /** Metres per degree of longitude at the area's latitude. */
  readonly mPerDegLon: number

  constructor(
    readonly id: string,
    rings: Float64Array[],
  ) {
    let n = 0
    for (const r of rings) n += r.length / 2 - 1
    this.ex1 = new Float64Array(n)
    this.ey1 = new Float64Array(n)
    this.ex2 = new Float64Array(n)
    this.ey2 = new Float64Array(n)
    let e = 0
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (const r of rings) {
      for (let i = 2; i < r.length; i += 2, e++) {
        this.ex1[e] = r[i - 2]
        this.ey1[e] = r[i - 1]
        this.ex2[e] = r[i]
        this.ey2[e] = r[i + 1]
        minX = Math.min(minX, r[i])
        maxX = Math.max(maxX, r[i])
        minY = Math.min(minY, r[i + 1])
        maxY = Math.max(maxY, r[i + 1])
      }
    }
    this.minX = minX
    this.minY = minY
    this.maxX = maxX
    this.maxY = maxY
    this.mPerDegLon = 111_320 * Math.cos((((minY + maxY) / 2) * Math.PI) / 180)
  }

  /** Even-odd over every ring: inside a polygon and not in a hole. */
  contains(x: number, y: number): boolean {
    let inside = false
    for (let e = 0; e < this.ex1.length; e++) {
      const y1 = this.ey1[e]
      const y2 = this.ey2[e]
      if (y1 > y !== y2 > y) {
        const xc = this.ex1[e] + ((y - y1) * (this.ex2[e] - this.ex1[e])) / (y2 - y1)
        if (x < xc) inside = !inside
      }
    }
    return inside
  }

  /** Distance in metres between segment p–q and the nearest edge (0 when they cross). */
  private clearance(px: number, py: number, qx: number, qy: number): number {
    // Work in metres around p.
    const kx = this.mPerDegLon
    const ky = M_PER_DEG_LAT
    const ax = 0
    const ay = 0
    const bx = (qx - px) * kx
    const by = (qy - py) * ky
    let best = Infinity
    for (let e = 0; e < this.ex1.length; e++) {
      const cx = (this.ex1[e] - px) * kx
      const cy = (this.ey1[e] - py) * ky
      const dx = (this.ex2[e] - px) * kx
      const dy = (this.ey2[e] - py) * ky
      const d = segmentDistance(ax, ay, bx, by, cx, cy, dx, dy)
      if (d < best) best = d
      if (best === 0) return 0
    }
    return best
  }

  /** A point whose whole straight path from (fromX, fromY) stays inside, clear of the edges; null if none was found. */
  reachablePoint(rng: () => number, fromX: number, fromY: number, tries = 40): [number, number] | null {
    for (let t = 0; t < tries; t++) {
      const p = this.randomPoint(rng)
      if (p && this.clearance(fromX, fromY, p[0], p[1]) > EDGE_MARGIN_M) return p
    }
    return null
  }

  /** A point inside, clear of the edges (rejection sampling in the bounding box). */
  randomPoint(rng: () => number, tries = 200): [number, number] | null {
    for (let t = 0; t < tries; t++) {
      const x = this.minX + rng() * (this.maxX - this.minX)
      const y = this.minY + rng() * (this.maxY - this.minY)
      if (this.contains(x, y) && this.clearance(x, y, x, y) > EDGE_MARGIN_M) return [x, y]
    }
    return null
  }

  /** Whether (x, y) is inside and clear of the edges (a usable start). */
  usable(x: number, y: number): boolean {
    return this.contains(x, y) && this.clearance(x, y, x, y) > EDGE_MARGIN_M
  }
}

function pointSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax
  const vy = by - ay
  const len2 = vx * vx + vy * vy
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / len2))
  return Math.hypot(px - (ax + t * vx), py - (ay + t * vy))
}

const orient = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) => (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

/** Distance between segments a–b and c–d (0 when they cross). */
function segmentDistance(ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): number {
  const o1 = orient(ax, ay, bx, by, cx, cy)
  const o2 = orient(ax, ay, bx, by, dx, dy)
  const o3 = orient(cx, cy, dx, dy, ax, ay)
  const o4 = orient(cx, cy, dx, dy, bx, by)
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return 0
  return Math.min(pointSegment(ax, ay, cx, cy, dx, dy), pointSegment(bx, by, cx, cy, dx, dy), pointSegment(cx, cy, ax, ay, bx, by), pointSegment(dx, dy, ax, ay, bx, by))
}

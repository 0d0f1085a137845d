/**
 * Synthetic region hierarchies for the import tests, far from the shared demo data (Jinhua, lon 119.4–119.9):
 * around lon 100–104, lat 30–31, ids prefixed TIMP. Rectangles share exact vertices, so a complete family
 * partitions its parent with no gap or overlap at all.
 */
export type Position = [number, number]
export interface Geometry {
  type: string
  coordinates: unknown
}
export interface Feature {
  type: 'Feature'
  properties: Record<string, unknown>
  geometry: Geometry | null
}

export const ID_PREFIX = 'TIMP'

/** Axis-aligned rectangle as a closed counter-clockwise ring. */
export function ring(x0: number, y0: number, x1: number, y1: number): Position[] {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
    [x0, y0],
  ]
}

export function rect(x0: number, y0: number, x1: number, y1: number): Geometry {
  return { type: 'Polygon', coordinates: [ring(x0, y0, x1, y1)] }
}

export function feature(id: string, level: number, parentId: string | null, geometry: Geometry | null, extra: Record<string, unknown> = {}): Feature {
  return {
    type: 'Feature',
    properties: { id, name: `测试 ${id}`, level, ...(parentId ? { parentId } : {}), ...extra },
    geometry,
  }
}

export function collection(features: unknown[]): { type: 'FeatureCollection'; features: unknown[] } {
  return { type: 'FeatureCollection', features }
}

/**
 * District `${p}D` over [x, x+0.2] × [y, y+0.2]; streets `${p}S1` (west) and `${p}S2` (east); communities
 * `${p}S1C1` (south) and `${p}S1C2` (north) inside S1. Every family is complete: 5 features.
 */
export function hierarchy(p: string, x: number, y: number): Feature[] {
  const xm = x + 0.1
  const x1 = x + 0.2
  const ym = y + 0.1
  const y1 = y + 0.2
  return [
    feature(`${p}D`, 1, null, rect(x, y, x1, y1), { households: 1000, population: 2700 }),
    feature(`${p}S1`, 2, `${p}D`, rect(x, y, xm, y1)),
    feature(`${p}S2`, 2, `${p}D`, rect(xm, y, x1, y1)),
    feature(`${p}S1C1`, 3, `${p}S1`, rect(x, y, xm, ym)),
    feature(`${p}S1C2`, 3, `${p}S1`, rect(x, ym, xm, y1)),
  ]
}

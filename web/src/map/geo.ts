/**
 * Small geometry helpers over GeoJSON coordinates (no dependency): bounding boxes and label points.
 */
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'

export type BBox = [minLon: number, minLat: number, maxLon: number, maxLat: number]

/** A name drawn at a point (deck.gl TextLayer data: street, community and drill-down labels). */
export interface MapLabel {
  id: string
  name: string
  at: [number, number]
}
type Ring = number[][]

function eachPosition(coords: unknown, fn: (lon: number, lat: number) => void): void {
  if (!Array.isArray(coords)) return
  if (typeof coords[0] === 'number') {
    fn(coords[0] as number, coords[1] as number)
    return
  }
  for (const c of coords) eachPosition(c, fn)
}

export function bboxOf(fc: RegionFeatureCollection): BBox | null {
  let minLon = Infinity
  let minLat = Infinity
  let maxLon = -Infinity
  let maxLat = -Infinity
  for (const f of fc.features) {
    eachPosition(f.geometry.coordinates, (lon, lat) => {
      if (lon < minLon) minLon = lon
      if (lat < minLat) minLat = lat
      if (lon > maxLon) maxLon = lon
      if (lat > maxLat) maxLat = lat
    })
  }
  return Number.isFinite(minLon) ? [minLon, minLat, maxLon, maxLat] : null
}

/** Signed area and centroid of a ring (shoelace), in degrees: fine for placing a label. */
function ringCentroid(ring: Ring): { area: number; lon: number; lat: number } {
  let a = 0
  let cx = 0
  let cy = 0
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j]
    const [x1, y1] = ring[i]
    const cross = x0 * y1 - x1 * y0
    a += cross
    cx += (x0 + x1) * cross
    cy += (y0 + y1) * cross
  }
  a /= 2
  if (a === 0) return { area: 0, lon: ring[0]?.[0] ?? 0, lat: ring[0]?.[1] ?? 0 }
  return { area: Math.abs(a), lon: cx / (6 * a), lat: cy / (6 * a) }
}

/** Centroid of the largest polygon's outer ring: where a district name goes. */
export function labelPoint(geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown }): [number, number] | null {
  const polygons = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as Ring[][]
  let best: { area: number; lon: number; lat: number } | null = null
  for (const poly of polygons ?? []) {
    const outer = poly?.[0]
    if (!outer || outer.length < 3) continue
    const c = ringCentroid(outer)
    if (!best || c.area > best.area) best = c
  }
  return best ? [best.lon, best.lat] : null
}

/** A stable pseudo-random number in [0, 1) from a string (FNV-1a): varies grid shading by id. */
export function hashUnit(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return ((h >>> 0) % 10007) / 10007
}

/** A label for each region feature that has a label point: its name at the centroid of its largest polygon. */
export function labelsOf(features: ReadonlyArray<{ properties: { id: string; name: string }; geometry: unknown }>): MapLabel[] {
  return features.flatMap((f) => {
    const at = labelPoint(f.geometry as Parameters<typeof labelPoint>[0])
    return at ? [{ id: f.properties.id, name: f.properties.name, at }] : []
  })
}

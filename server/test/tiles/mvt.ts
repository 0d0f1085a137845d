/** Test helpers: decode a Mapbox Vector Tile with the reference decoder, and the XYZ tile arithmetic. */
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'

export interface DecodedFeature {
  /** 1 point, 2 line, 3 polygon */
  type: number
  properties: Record<string, unknown>
  /** [minX, minY, maxX, maxY] in tile units (0..extent, plus the buffer) */
  bbox: [number, number, number, number]
  /** Polygons: area and perimeter of the part inside the tile proper (the buffer cut off), in tile units. */
  area: number
  perimeter: number
}

export interface DecodedLayer {
  version: number
  extent: number
  features: DecodedFeature[]
}

export function decodeTile(buf: Uint8Array): Record<string, DecodedLayer> {
  const tile = new VectorTile(new PbfReader(buf))
  const out: Record<string, DecodedLayer> = {}
  for (const [name, layer] of Object.entries(tile.layers)) {
    const features: DecodedFeature[] = []
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i)
      const pts = f.loadGeometry().flat()
      features.push({
        type: f.type,
        properties: { ...f.properties },
        bbox: [Math.min(...pts.map((p) => p.x)), Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.y))],
        ...(f.type === 3 ? areaInTile(f.loadGeometry(), layer.extent) : { area: 0, perimeter: 0 }),
      })
    }
    out[name] = { version: layer.version, extent: layer.extent, features }
  }
  return out
}

interface Xy {
  x: number
  y: number
}

/** Sutherland–Hodgman: one ring clipped to the square [0, extent]². */
function clipRing(ring: Xy[], extent: number): Xy[] {
  const edges: Array<[(p: Xy) => boolean, (a: Xy, b: Xy) => Xy]> = [
    [(p) => p.x >= 0, (a, b) => ({ x: 0, y: a.y + ((b.y - a.y) * (0 - a.x)) / (b.x - a.x) })],
    [(p) => p.x <= extent, (a, b) => ({ x: extent, y: a.y + ((b.y - a.y) * (extent - a.x)) / (b.x - a.x) })],
    [(p) => p.y >= 0, (a, b) => ({ x: a.x + ((b.x - a.x) * (0 - a.y)) / (b.y - a.y), y: 0 })],
    [(p) => p.y <= extent, (a, b) => ({ x: a.x + ((b.x - a.x) * (extent - a.y)) / (b.y - a.y), y: extent })],
  ]
  let out = ring
  for (const [inside, cut] of edges) {
    const input = out
    out = []
    input.forEach((cur, i) => {
      const prev = input[(i + input.length - 1) % input.length]
      if (inside(cur)) {
        if (!inside(prev)) out.push(cut(prev, cur))
        out.push(cur)
      } else if (inside(prev)) out.push(cut(prev, cur))
    })
  }
  return out
}

/**
 * Net area (exterior rings minus holes: their windings are opposite) and boundary length of a polygon's part inside
 * the tile. Encoders clip to the buffer and simplify differently at its edge; inside the tile they must agree.
 */
function areaInTile(rings: Xy[][], extent: number): { area: number; perimeter: number } {
  let area = 0
  let perimeter = 0
  for (const ring of rings) {
    const c = clipRing(ring, extent)
    c.forEach((p, i) => {
      const q = c[(i + 1) % c.length]
      area += p.x * q.y - q.x * p.y
      perimeter += Math.hypot(q.x - p.x, q.y - p.y)
    })
  }
  return { area: Math.abs(area) / 2, perimeter }
}

export interface Tile {
  z: number
  x: number
  y: number
}

/** The XYZ tile (y from the north) holding a WGS84 point. */
export function tileAt(lon: number, lat: number, z: number): Tile {
  const n = 2 ** z
  const rad = (lat * Math.PI) / 180
  return {
    z,
    x: Math.floor(((lon + 180) / 360) * n),
    y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n),
  }
}

/** [minLon, minLat, maxLon, maxLat] of a tile, from the Web Mercator formulas (not from PostGIS). */
export function tileBounds({ z, x, y }: Tile): [number, number, number, number] {
  const n = 2 ** z
  const lon = (v: number) => (v / n) * 360 - 180
  const lat = (v: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * v) / n))) * 180) / Math.PI
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)]
}

export const tilePath = (layer: string, t: Tile) => `/tiles/${layer}/${t.z}/${t.x}/${t.y}.mvt`

/** Features keyed by their `id` property, for comparisons that do not depend on feature order. */
export function byId(layer: DecodedLayer | undefined): Map<string, DecodedFeature> {
  return new Map((layer?.features ?? []).map((f) => [String(f.properties.id), f]))
}

/**
 * Per-feature checks of the region import that need no database: fields (id, name, level, parentId, numbers),
 * duplicate ids, geometry type and structure, coordinate ranges. Geometric validity and topology are checked in
 * SQL (repos/region-import/); parents and levels against the database in region-import.ts.
 */
import type { ImportProblem, ParsedFeature, RawFeature } from './region-import-types.ts'
import { findUnstorableText } from '../validation.ts'

/** Region ids are ltree labels (they make up `path`). Same rule as the regions route's parentId. */
export const REGION_ID = /^[A-Za-z0-9_]{1,64}$/
const MAX_NAME = 200
const MAX_INT = 2_147_483_647
/** Beyond this a coordinate is surely not degrees: metres of a projected CRS (UTM, Gauss–Krüger, Web Mercator). */
const PROJECTED_MAGNITUDE = 1000

const RECOGNISED = new Set(['id', 'name', 'level', 'parentId', 'households', 'population', 'attributes'])

type Position = [number, number]

/** Structural problems of a (Multi)Polygon's coordinates, before PostGIS sees it (PostGIS would accept an open ring). */
function ringProblems(type: 'Polygon' | 'MultiPolygon', coordinates: unknown): { reason: string; at?: Position } | null {
  const polygons = type === 'Polygon' ? [coordinates] : coordinates
  if (!Array.isArray(polygons) || polygons.length === 0) return { reason: `${type} has no coordinates` }
  for (let p = 0; p < polygons.length; p++) {
    const rings = polygons[p]
    const where = type === 'MultiPolygon' ? ` of polygon ${p + 1}` : ''
    if (!Array.isArray(rings) || rings.length === 0) return { reason: `polygon ${p + 1} has no rings` }
    for (let r = 0; r < rings.length; r++) {
      const ring = rings[r]
      const name = `${r === 0 ? 'outer ring' : `hole ${r}`}${where}`
      if (!Array.isArray(ring)) return { reason: `${name} is not an array of positions` }
      for (const pos of ring) {
        if (!Array.isArray(pos) || pos.length < 2 || pos.slice(0, 2).some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
          return { reason: `${name} has a position that is not [lon, lat] numbers: ${JSON.stringify(pos)}` }
        }
      }
      const first = ring[0] as Position | undefined
      if (ring.length < 4) return { reason: `${name} has ${ring.length} positions; a ring needs at least 4`, at: first }
      const last = ring[ring.length - 1] as Position
      if (first![0] !== last[0] || first![1] !== last[1]) return { reason: `${name} is not closed (first and last positions differ)`, at: first }
    }
  }
  return null
}

function* positions(coordinates: unknown): Generator<Position> {
  if (!Array.isArray(coordinates)) return
  if (typeof coordinates[0] === 'number') {
    yield coordinates as Position
    return
  }
  for (const c of coordinates) yield* positions(c)
}

function intOrNull(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_INT ? (v as number) : undefined
}

/** Checks every feature; returns them normalised plus the problems found (each naming the feature). */
export function checkFeatures(raw: RawFeature[], crsDeclared: boolean): { features: ParsedFeature[]; problems: ImportProblem[] } {
  const problems: ImportProblem[] = []
  const seen = new Map<string, number>()

  const features = raw.map((rf): ParsedFeature => {
    const mine: ImportProblem[] = []
    const p = rf.properties
    const idRaw = p.id ?? rf.featureId
    let id: string | null = null
    if (typeof idRaw === 'string' && idRaw.trim() !== '') id = idRaw.trim()
    else if (Number.isSafeInteger(idRaw)) id = String(idRaw)
    const featureId = id !== null && REGION_ID.test(id) ? id : null
    let duplicate = false
    const problem = (x: Omit<ImportProblem, 'featureId' | 'index'>) => mine.push({ featureId, index: rf.index, ...x })

    if (rf.notAFeature) {
      problems.push({ featureId: null, index: rf.index, code: 'invalid_feature', reason: 'not a GeoJSON Feature object' })
      return { index: rf.index, id: null, name: null, level: null, parentId: null, households: null, population: null, attributes: {}, geometry: null, duplicate: false, ok: false }
    }

    if (idRaw === undefined || idRaw === null || idRaw === '') problem({ field: 'id', code: 'missing_field', reason: 'id is required' })
    else if (id === null || !REGION_ID.test(id)) {
      problem({ field: 'id', code: 'invalid_field', reason: `id ${JSON.stringify(idRaw)} must be 1–64 letters, digits or _ (it becomes a label of the region path)` })
    } else if (seen.has(id)) {
      duplicate = true
      problem({ field: 'id', code: 'duplicate_id', reason: `id ${id} is used by feature #${seen.get(id)} too` })
    } else seen.set(id, rf.index)

    let name: string | null = null
    if (p.name === undefined || p.name === null || (typeof p.name === 'string' && p.name.trim() === '')) {
      problem({ field: 'name', code: 'missing_field', reason: 'name is required' })
    } else if (typeof p.name !== 'string' || p.name.length > MAX_NAME) {
      problem({ field: 'name', code: 'invalid_field', reason: `name must be a string of at most ${MAX_NAME} characters` })
    } else if (findUnstorableText(p.name)) {
      // A shapefile's .dbf reaches here without the body's text check (validation.ts): the same rule, per feature.
      problem({ field: 'name', code: 'invalid_field', reason: `name ${findUnstorableText(p.name)!.message}` })
    } else name = p.name.trim()

    let level: number | null = null
    if (p.level === undefined || p.level === null) problem({ field: 'level', code: 'missing_field', reason: 'level (1–5) is required' })
    else if (!Number.isInteger(p.level) || (p.level as number) < 1 || (p.level as number) > 5) {
      problem({ field: 'level', code: 'invalid_field', reason: `level ${JSON.stringify(p.level)} must be an integer 1–5 (1 district … 5 micro-grid)` })
    } else level = p.level as number

    let parentId: string | null = null
    const parentRaw = p.parentId
    const hasParent = !(parentRaw === undefined || parentRaw === null || parentRaw === '')
    if (hasParent) {
      const s = typeof parentRaw === 'string' ? parentRaw.trim() : Number.isSafeInteger(parentRaw) ? String(parentRaw) : null
      if (s === null || !REGION_ID.test(s)) problem({ field: 'parentId', code: 'invalid_field', reason: `parentId ${JSON.stringify(parentRaw)} is not a region id` })
      else if (level === 1) problem({ field: 'parentId', code: 'invalid_field', reason: 'a level 1 region (district) has no parent' })
      else parentId = s
    } else if (level !== null && level > 1) {
      problem({ field: 'parentId', code: 'missing_field', reason: `parentId is required for level ${level}` })
    }

    const households = intOrNull(p.households)
    if (households === undefined) problem({ field: 'households', code: 'invalid_field', reason: 'households must be a non-negative integer' })
    const population = intOrNull(p.population)
    if (population === undefined) problem({ field: 'population', code: 'invalid_field', reason: 'population must be a non-negative integer' })

    // Properties we do not recognise are kept in `attributes` (nothing a user sent is dropped); `attributes` wins.
    let attributes: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(p)) if (!RECOGNISED.has(k) && v !== undefined) attributes[k] = v
    if (p.attributes !== undefined && p.attributes !== null) {
      if (typeof p.attributes !== 'object' || Array.isArray(p.attributes)) {
        problem({ field: 'attributes', code: 'invalid_field', reason: 'attributes must be a JSON object' })
      } else attributes = { ...attributes, ...(p.attributes as Record<string, unknown>) }
    }
    const badText = findUnstorableText(attributes)
    if (badText) problem({ field: 'attributes', code: 'invalid_field', reason: `attributes${badText.instancePath.replace(/\//g, '.')} ${badText.message}` })

    let geometry: ParsedFeature['geometry'] = null
    const g = rf.geometry as { type?: unknown; coordinates?: unknown } | null | undefined
    if (!g || typeof g !== 'object') problem({ field: 'geometry', code: 'missing_field', reason: 'the feature has no geometry' })
    else if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') {
      problem({ field: 'geometry', code: 'not_polygon', reason: `a region must be a Polygon or MultiPolygon, not ${typeof g.type === 'string' ? g.type : JSON.stringify(g.type)}` })
    } else {
      const bad = ringProblems(g.type, g.coordinates)
      if (bad) {
        const at = bad.at && Math.abs(bad.at[0]) <= 180 && Math.abs(bad.at[1]) <= 90 ? { location: [bad.at[0], bad.at[1]] as [number, number] } : {}
        problem({ field: 'geometry', code: 'invalid_geometry', reason: bad.reason, ...at })
      } else {
        let worst: Position | undefined
        let magnitude = 0
        for (const pos of positions(g.coordinates)) {
          const m = Math.max(Math.abs(pos[0]) / 180, Math.abs(pos[1]) / 90)
          if (m > magnitude) [magnitude, worst] = [m, pos]
        }
        if (magnitude > 1) {
          const [x, y] = worst!
          if (!crsDeclared && Math.max(Math.abs(x), Math.abs(y)) > PROJECTED_MAGNITUDE) {
            problem({
              field: 'geometry',
              code: 'projected_coordinates',
              reason: `coordinates look projected (${x}, ${y}), not WGS84 lon/lat degrees: reproject to EPSG:4326, or send a zipped shapefile with its .prj`,
            })
          } else {
            problem({ field: 'geometry', code: 'out_of_range', reason: `position (${x}, ${y}) is outside lon [-180, 180] / lat [-90, 90]` })
          }
        } else geometry = { type: g.type, coordinates: g.coordinates }
      }
    }

    problems.push(...mine)
    return { index: rf.index, id: featureId, name, level, parentId, households: households ?? null, population: population ?? null, attributes, geometry, duplicate, ok: mine.length === 0 }
  })
  return { features, problems }
}

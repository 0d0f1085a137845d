/**
 * Readers for the region import: a GeoJSON FeatureCollection, or a zipped Shapefile (one or more layers, each
 * .shp + .dbf, optional .prj and .cpg) reprojected to WGS84 from its .prj with proj4 (through shpjs).
 * They only decode; field and geometry checks are in region-import-check.ts.
 */
import { unzipSync } from 'fflate'
import proj4 from 'proj4'
import { parseDbf, parseShp } from 'shpjs'
import { HttpError } from './http-error.ts'
import { MAX_IMPORT_FEATURES, MAX_UNZIPPED_BYTES, type ImportProblem, type RawFeature, type ReadResult } from './region-import-types.ts'

export function tooManyFeatures(n: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the file holds ${n} features; one import takes at most ${MAX_IMPORT_FEATURES}`)
}

const fileProblem = (reason: string, code: ImportProblem['code'] = 'invalid_file'): ImportProblem => ({ featureId: null, code, reason })

// ---------------------------------------------------------------------------------------------------------------
// GeoJSON

/** CRS names (GeoJSON 2008 `crs` member) taken as WGS84 lon/lat. CGCS2000 (EPSG:4490) differs from WGS84 by < 1 m. */
const LONLAT_CRS = /^(?:urn:ogc:def:crs:OGC:(?:1\.3:)?CRS84|urn:ogc:def:crs:EPSG::?(?:4326|4490)|EPSG:(?:4326|4490)|CRS84|OGC:CRS84)$/i
/** Web Mercator names, reprojected with proj4's built-in definition. */
const WEB_MERCATOR_CRS = /^(?:urn:ogc:def:crs:EPSG::?(?:3857|900913|102100)|EPSG:(?:3857|900913|102100))$/i

function crsName(crs: unknown): string | undefined {
  if (!crs || typeof crs !== 'object') return undefined
  const props = (crs as { properties?: { name?: unknown } }).properties
  return typeof props?.name === 'string' ? props.name : undefined
}

/** Maps every position of a (Multi)Polygon through `fn`, leaving anything malformed as it is (checked later). */
function mapPositions(geometry: unknown, fn: (xy: [number, number]) => [number, number]): unknown {
  const walk = (c: unknown): unknown => {
    if (!Array.isArray(c)) return c
    if (c.length >= 2 && typeof c[0] === 'number' && typeof c[1] === 'number') {
      return Number.isFinite(c[0]) && Number.isFinite(c[1]) ? fn([c[0], c[1]]) : c
    }
    return c.map(walk)
  }
  if (!geometry || typeof geometry !== 'object') return geometry
  const g = geometry as { type?: unknown; coordinates?: unknown }
  return { ...g, coordinates: walk(g.coordinates) }
}

export function readGeoJson(data: unknown): ReadResult {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return { features: [], problems: [fileProblem('the body is not a GeoJSON object')], crsDeclared: false }
  }
  const fc = data as { type?: unknown; features?: unknown; crs?: unknown }
  if (fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
    return {
      features: [],
      problems: [fileProblem('expected a GeoJSON FeatureCollection: { "type": "FeatureCollection", "features": [...] }')],
      crsDeclared: false,
    }
  }
  if (fc.features.length > MAX_IMPORT_FEATURES) throw tooManyFeatures(fc.features.length)

  let project: ((xy: [number, number]) => [number, number]) | undefined
  const name = crsName(fc.crs)
  if (fc.crs !== undefined && fc.crs !== null) {
    if (name && WEB_MERCATOR_CRS.test(name.trim())) {
      const merc = proj4('EPSG:3857', 'EPSG:4326')
      project = (xy) => merc.forward(xy) as [number, number]
    } else if (!name || !LONLAT_CRS.test(name.trim())) {
      return {
        features: [],
        problems: [
          fileProblem(
            `crs ${name ? `"${name}"` : '(unnamed)'} is not supported: send WGS84 lon/lat (RFC 7946), EPSG:3857, or a zipped shapefile with its .prj`,
            'unsupported_crs',
          ),
        ],
        crsDeclared: true,
      }
    }
  }

  const features = fc.features.map((f, index): RawFeature => {
    if (!f || typeof f !== 'object' || Array.isArray(f) || (f as { type?: unknown }).type !== 'Feature') {
      return { index, notAFeature: true, properties: {}, geometry: null }
    }
    const { properties, geometry, id } = f as { properties?: unknown; geometry?: unknown; id?: unknown }
    return {
      index,
      properties: properties && typeof properties === 'object' && !Array.isArray(properties) ? (properties as Record<string, unknown>) : {},
      featureId: id,
      geometry: project ? mapPositions(geometry, project) : geometry,
    }
  })
  return { features, problems: [], crsDeclared: fc.crs !== undefined && fc.crs !== null }
}

// ---------------------------------------------------------------------------------------------------------------
// Zipped Shapefile

const MEMBER = /^(.*)\.(shp|dbf|prj|cpg)$/i

/** .cpg code pages that TextDecoder does not know by that name. DBF language driver ids 0x4D / 0x7A are GBK too. */
function encodingFor(cpg: string | undefined, dbf: Uint8Array): string | undefined {
  const name = cpg?.trim()
  if (name) {
    if (/^(?:ANSI\s*|CP)?936$/i.test(name) || /^GB(?:K|2312|18030)$/i.test(name)) return 'gbk'
    if (/^(?:ANSI\s*|CP)?950$/i.test(name)) return 'big5'
    return name
  }
  const ldid = dbf.length > 29 ? dbf[29] : 0
  return ldid === 0x4d || ldid === 0x7a ? 'gbk' : undefined
}

/** DBF columns are at most 10 characters and often upper-cased: our property names are matched case-insensitively. */
const KNOWN_COLUMNS: Record<string, string> = {
  id: 'id',
  name: 'name',
  level: 'level',
  parentid: 'parentId',
  parent_id: 'parentId',
  households: 'households',
  population: 'population',
  attributes: 'attributes',
}

/** A DBF record as feature properties: known columns renamed; empty cells (NaN, '') dropped; integral text → number. */
function dbfProperties(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [column, raw] of Object.entries(record)) {
    if (raw === '' || raw === null || raw === undefined || (typeof raw === 'number' && Number.isNaN(raw))) continue
    const key = KNOWN_COLUMNS[column.toLowerCase()] ?? column
    let value = raw
    if ((key === 'level' || key === 'households' || key === 'population') && typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) {
      value = Number(raw)
    }
    if ((key === 'id' || key === 'parentId') && typeof raw === 'string') value = raw.trim()
    if (key === 'attributes' && typeof raw === 'string') {
      try {
        value = JSON.parse(raw)
      } catch {
        value = raw // reported as invalid_field by the checks
      }
    }
    out[key] = value
  }
  return out
}

export function readZippedShapefile(zip: Uint8Array): ReadResult {
  let declared = 0
  let files: Record<string, Uint8Array>
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        if (f.name.includes('__MACOSX/') || /(^|\/)\./.test(f.name) || !MEMBER.test(f.name)) return false
        declared += f.originalSize
        if (declared > MAX_UNZIPPED_BYTES) {
          throw new HttpError(413, 'payload_too_large', `the zip unpacks to more than ${MAX_UNZIPPED_BYTES / 1024 / 1024} MiB`)
        }
        return true
      },
    })
  } catch (err) {
    if (err instanceof HttpError) throw err
    return { features: [], problems: [fileProblem(`not a readable zip file: ${(err as Error).message}`)], crsDeclared: false }
  }

  // Layers by name (without extension, case-insensitively), in zip order.
  const layers = new Map<string, { name: string; shp?: Uint8Array; dbf?: Uint8Array; prj?: string; cpg?: string }>()
  for (const [path, bytes] of Object.entries(files)) {
    const [, base, ext] = MEMBER.exec(path)!
    const key = base.toLowerCase()
    const layer = layers.get(key) ?? { name: base.split('/').pop()! }
    layers.set(key, layer)
    const e = ext.toLowerCase() as 'shp' | 'dbf' | 'prj' | 'cpg'
    if (e === 'prj' || e === 'cpg') layer[e] = new TextDecoder().decode(bytes)
    else layer[e] = bytes
  }

  const problems: ImportProblem[] = []
  const features: RawFeature[] = []
  let crsDeclared = false
  const shpLayers = [...layers.values()].filter((l) => l.shp)
  if (shpLayers.length === 0) problems.push(fileProblem('the zip holds no .shp file'))
  for (const layer of shpLayers) {
    if (!layer.dbf) {
      problems.push(fileProblem(`layer ${layer.name}: ${layer.name}.shp has no ${layer.name}.dbf beside it (the attributes id, name, level, parentId)`))
      continue
    }
    if (layer.prj !== undefined) {
      crsDeclared = true
      try {
        const p = proj4(layer.prj) as unknown as { inverse?: unknown }
        if (typeof p?.inverse !== 'function') throw new Error('no inverse')
      } catch {
        problems.push(fileProblem(`layer ${layer.name}: the coordinate system in ${layer.name}.prj is not understood`, 'unsupported_crs'))
        continue
      }
    }
    let geometries: ReturnType<typeof parseShp>
    let records: ReturnType<typeof parseDbf>
    try {
      geometries = parseShp(layer.shp!, layer.prj)
      records = parseDbf(layer.dbf, encodingFor(layer.cpg, layer.dbf))
    } catch (err) {
      problems.push(fileProblem(`layer ${layer.name}: unreadable shapefile (${(err as Error).message})`))
      continue
    }
    if (geometries.length !== records.length) {
      problems.push(fileProblem(`layer ${layer.name}: ${geometries.length} shapes but ${records.length} .dbf records`))
      continue
    }
    if (features.length + geometries.length > MAX_IMPORT_FEATURES) throw tooManyFeatures(features.length + geometries.length)
    geometries.forEach((geometry, i) => {
      features.push({ index: features.length, properties: dbfProperties(records[i]), geometry })
    })
  }
  return { features, problems, crsDeclared }
}

import type { Queryable } from '../db/types.ts'

/**
 * The feature collections served over OGC API – Features (/ogc) and as vector tiles (/tiles): the five current
 * region levels and the cameras. Each is a fixed row source with an `id`, a `geom` in EPSG:4326 and its property
 * columns, named as the properties are (camelCase), so GeoJSON and MVT carry the same keys.
 */
export const COLLECTION_IDS = ['districts', 'streets', 'communities', 'grids', 'microgrids', 'cameras'] as const
export type CollectionId = (typeof COLLECTION_IDS)[number]

export interface CollectionDef {
  id: CollectionId
  title: string
  description: string
  geometryType: 'MultiPolygon' | 'Point'
  /** Property names, in the order they are served. */
  properties: readonly string[]
  /** `(SELECT … ) s`: only code constants go in here, never request values. */
  source: string
}

const REGION_PROPERTIES = ['id', 'name', 'level', 'parentId', 'households', 'population'] as const
/**
 * No `streamUrl`: OGC and the tiles are public (issue #6), and a camera's stream address (often with credentials,
 * public-security feeds among them) is for staff — signed-in callers read it from GET /api/cameras, scoped.
 */
const CAMERA_PROPERTIES = ['id', 'name', 'kind', 'status', 'regionId'] as const

// Only current versions: a retired region keeps its row with valid_to set (see 005_resources_and_region_history.sql).
const regionSource = (level: 1 | 2 | 3 | 4 | 5) => `
  (SELECT id, name, level::int AS level, parent_id AS "parentId", households, population, geom
     FROM regions WHERE valid_to IS NULL AND level = ${level}) s`

const CAMERA_SOURCE = `
  (SELECT id, name, kind, status, region_id AS "regionId", location AS geom FROM cameras) s`

const region = (id: CollectionId, level: 1 | 2 | 3 | 4 | 5, title: string, description: string): CollectionDef => ({
  id,
  title,
  description,
  geometryType: 'MultiPolygon',
  properties: REGION_PROPERTIES,
  source: regionSource(level),
})

export const COLLECTIONS: readonly CollectionDef[] = [
  region('districts', 1, 'Districts (区/县)', 'Region level 1: districts and counties.'),
  region('streets', 2, 'Streets and towns (街道/乡镇)', 'Region level 2: sub-district streets and towns.'),
  region('communities', 3, 'Communities and villages (社区/村)', 'Region level 3: residential communities and villages.'),
  region('grids', 4, 'Grids (网格)', 'Region level 4: the governance grids, each served by a grid worker.'),
  region('microgrids', 5, 'Micro-grids (微网格)', 'Region level 5: micro-grids, each served by a micro-grid leader.'),
  {
    id: 'cameras',
    title: 'Cameras (视频监控)',
    description: 'Video cameras: public security, enterprise and construction-site.',
    geometryType: 'Point',
    properties: CAMERA_PROPERTIES,
    source: CAMERA_SOURCE,
  },
]

export function collectionById(id: string): CollectionDef | undefined {
  return COLLECTIONS.find((c) => c.id === id)
}

/** `'id', s."id", 'name', s."name", …` for json_build_object. */
export function jsonProperties(def: CollectionDef): string {
  return def.properties.map((p) => `'${p}', s."${p}"`).join(', ')
}

/** `s."id", s."name", …` for a select list whose column names become property keys (ST_AsMVT). */
export function propertyColumns(def: CollectionDef): string {
  return def.properties.map((p) => `s."${p}"`).join(', ')
}

/** [minLon, minLat, maxLon, maxLat] in CRS84. */
export type Bbox = [number, number, number, number]

const EXTENTS = `
  SELECT level::int AS level, ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy
    FROM (SELECT level, ST_Extent(geom) AS e FROM regions WHERE valid_to IS NULL GROUP BY level) r
  UNION ALL
  SELECT 0, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
    FROM (SELECT ST_Extent(location) AS e FROM cameras) c
   WHERE e IS NOT NULL`

const LEVEL_OF: Record<CollectionId, number> = { districts: 1, streets: 2, communities: 3, grids: 4, microgrids: 5, cameras: 0 }

/** Spatial extent of every collection, computed from the data; absent for an empty collection. */
export async function collectionExtents(q: Queryable): Promise<Map<CollectionId, Bbox>> {
  const { rows } = await q.query<{ level: number; minx: number; miny: number; maxx: number; maxy: number }>(EXTENTS)
  const out = new Map<CollectionId, Bbox>()
  for (const id of COLLECTION_IDS) {
    const r = rows.find((row) => row.level === LEVEL_OF[id])
    if (r) out.set(id, [r.minx, r.miny, r.maxx, r.maxy])
  }
  return out
}

/**
 * A bbox filter: one envelope, or two when the box crosses the antimeridian (minLon > maxLon, OGC API – Features
 * §7.15.3). `&&` lets the GiST index pick candidates; ST_Intersects keeps only features that really touch the box.
 */
function bboxFilter(bbox: Bbox | undefined, firstParam: number): { sql: string; params: number[] } {
  if (!bbox) return { sql: 'true', params: [] }
  const [minx, miny, maxx, maxy] = bbox
  const boxes: Bbox[] = minx <= maxx ? [bbox] : [[minx, miny, 180, maxy], [-180, miny, maxx, maxy]]
  const parts = boxes.map((_, i) => {
    const n = firstParam + i * 4
    const env = `ST_MakeEnvelope($${n}, $${n + 1}, $${n + 2}, $${n + 3}, 4326)`
    return `(s.geom && ${env} AND ST_Intersects(s.geom, ${env}))`
  })
  return { sql: parts.join(' OR '), params: boxes.flat() }
}

const featureJson = (def: CollectionDef) => `
  json_build_object('type', 'Feature', 'id', s.id, 'geometry', ST_AsGeoJSON(s.geom, 7)::json,
                    'properties', json_build_object(${jsonProperties(def)}))`

export interface FeaturePage {
  numberMatched: number
  numberReturned: number
  /** JSON text of the features array, serialised by PostGIS. */
  features: string
}

/** One page of features ordered by id (stable paging), and how many match in all; one statement, one snapshot. */
export async function featurePage(q: Queryable, def: CollectionDef, opts: { bbox?: Bbox; limit: number; offset: number }): Promise<FeaturePage> {
  const filter = bboxFilter(opts.bbox, 3)
  const sql = `
    SELECT (SELECT count(*) FROM ${def.source} WHERE ${filter.sql})::int AS "numberMatched",
           count(*)::int AS "numberReturned",
           coalesce(json_agg(p.f ORDER BY p.id), '[]'::json)::text AS features
      FROM (SELECT s.id, ${featureJson(def)} AS f
              FROM ${def.source}
             WHERE ${filter.sql}
             ORDER BY s.id
             LIMIT $1 OFFSET $2) p`
  const { rows } = await q.query<FeaturePage>(sql, [opts.limit, opts.offset, ...filter.params])
  return rows[0]
}

/** One feature as GeoJSON text, or null when the collection has no feature with this id. */
export async function featureById(q: Queryable, def: CollectionDef, id: string): Promise<string | null> {
  const { rows } = await q.query<{ f: string }>(`SELECT ${featureJson(def)}::text AS f FROM ${def.source} WHERE s.id = $1`, [id])
  return rows[0]?.f ?? null
}

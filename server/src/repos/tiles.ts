import { geoJSONToTile } from '@maplibre/geojson-vt'
import { fromGeojsonVt } from '@maplibre/vt-pbf'
import type { Db, Queryable } from '../db/types.ts'
import { jsonProperties, propertyColumns, type CollectionDef, type CollectionId } from './features.ts'

/**
 * Mapbox Vector Tiles (spec 2.1) of one collection, one layer per tile named after the collection. Real PostGIS
 * encodes them itself (ST_AsMVT); embedded PostGIS (PGlite) is built without protobuf, so there PostGIS selects and
 * clips the same features as GeoJSON and Node encodes them (geojson-vt + vt-pbf) with the same extent, buffer,
 * layer name and properties. Features have no MVT id (ids are text; MVT ids are integers): `id` is a property.
 */
export const TILE_EXTENT = 4096
/** Tile-coordinate units drawn beyond each edge, so strokes and fills meet seamlessly across tiles. */
export const TILE_BUFFER = 64
export const MAX_TILE_ZOOM = 22
/**
 * Below these zooms a layer's tiles are empty: a z10 tile would carry thousands of micro-grids of a few pixels each.
 * Keeps the work per tile bounded; the map asks for micro-grids from z12 only.
 */
export const MIN_TILE_ZOOM: Partial<Record<CollectionId, number>> = { microgrids: 11 }

// The tile's square in EPSG:4326 (Web Mercator maps it to a lon/lat rectangle), and the same square grown by the
// buffer, for clipping. $1..$3 are z, x, y.
const TILE_BOUNDS = 'ST_Transform(ST_TileEnvelope($1, $2, $3), 4326)'
const BUFFERED_BOUNDS = `ST_Transform(ST_TileEnvelope($1, $2, $3, margin => ${TILE_BUFFER / TILE_EXTENT}), 4326)`
const IN_TILE = `s.geom && ${TILE_BOUNDS} AND ST_Intersects(s.geom, ${TILE_BOUNDS})`

const EMPTY = new Uint8Array(0)

/** The MVT encoded by PostGIS (needs PostGIS built with protobuf: real PostgreSQL, not PGlite). */
export async function mvtFromSql(q: Queryable, def: CollectionDef, z: number, x: number, y: number): Promise<Uint8Array> {
  const sql = `
    SELECT ST_AsMVT(t, $4, ${TILE_EXTENT}, 'geom') AS mvt
      FROM (SELECT ${propertyColumns(def)},
                   ST_AsMVTGeom(ST_Transform(s.geom, 3857), ST_TileEnvelope($1, $2, $3), ${TILE_EXTENT}, ${TILE_BUFFER}, true) AS geom
              FROM ${def.source}
             WHERE ${IN_TILE}
             ORDER BY s.id) t
     WHERE t.geom IS NOT NULL`
  const { rows } = await q.query<{ mvt: Uint8Array | null }>(sql, [z, x, y, def.id])
  return rows[0]?.mvt ?? EMPTY
}

/** The same tile encoded in Node from the features PostGIS selects and clips to the buffered tile. */
export async function mvtFromGeoJson(q: Queryable, def: CollectionDef, z: number, x: number, y: number): Promise<Uint8Array> {
  // Nulls are left out of the properties, as ST_AsMVT leaves them out. 9 decimals ≈ 0.1 mm: finer than a z22 unit.
  const sql = `
    SELECT coalesce(json_agg(json_build_object(
             'type', 'Feature',
             'properties', json_strip_nulls(json_build_object(${jsonProperties(def)})),
             'geometry', ST_AsGeoJSON(ST_ClipByBox2D(s.geom, ${BUFFERED_BOUNDS}::box2d), 9)::json) ORDER BY s.id), '[]'::json)::text AS features
      FROM ${def.source}
     WHERE ${IN_TILE}`
  const { rows } = await q.query<{ features: string }>(sql, [z, x, y])
  const features = JSON.parse(rows[0].features) as GeoJSON.Feature[]
  if (features.length === 0) return EMPTY
  const tile = geoJSONToTile({ type: 'FeatureCollection', features }, z, x, y, {
    extent: TILE_EXTENT,
    buffer: TILE_BUFFER,
    clip: true,
    wrap: false,
    // Simplify by one tile unit at this zoom (about what ST_AsMVTGeom's snapping to the tile grid removes);
    // maxZoom above every served zoom keeps geojson-vt from simplifying at its own default z14.
    tolerance: 1,
    maxZoom: 24,
  })
  if (tile.features.length === 0) return EMPTY
  return fromGeojsonVt({ [def.id]: tile }, { version: 2, extent: TILE_EXTENT })
}

/** One tile of a collection; empty (length 0) when nothing falls in it or below the layer's minimum zoom. */
export async function vectorTile(db: Db, def: CollectionDef, z: number, x: number, y: number): Promise<Uint8Array> {
  if (z < (MIN_TILE_ZOOM[def.id] ?? 0)) return EMPTY
  return db.mode === 'postgres' ? mvtFromSql(db, def, z, x, y) : mvtFromGeoJson(db, def, z, x, y)
}

/** Types and limits shared by the region import's input readers, service, route and CLI. */

/** Largest request body the import route accepts (GeoJSON or zip): larger → 413 payload_too_large. */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024
/** Most features one import may hold: more → 413 payload_too_large. */
export const MAX_IMPORT_FEATURES = 50_000
/** Sum of the declared uncompressed sizes of the .shp/.dbf/.prj/.cpg members of a zip (zip-bomb guard). */
export const MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
/** Default area tolerance of the topology checks, m² (per overlap pair, per child outside its parent, per gap). */
export const DEFAULT_TOLERANCE_M2 = 1
/** `repair=true` accepts ST_MakeValid's polygons only when the area changes by at most this fraction. */
export const REPAIR_AREA_TOLERANCE = 0.001

export type ProblemCode =
  | 'invalid_file' // not a FeatureCollection, unreadable zip, .shp without .dbf, …
  | 'unsupported_crs' // a GeoJSON `crs` or a .prj we cannot reproject from
  | 'invalid_feature' // not a GeoJSON Feature object
  | 'missing_field' // id, name, level, parentId (level > 1), geometry
  | 'invalid_field' // wrong type or range (level 1–5, id as an ltree label, households ≥ 0, …)
  | 'duplicate_id' // the same id twice in the file
  | 'unknown_parent' // parentId names no region in the file nor a current one in the database
  | 'level_mismatch' // level is not the parent's level + 1
  | 'level_changed' // an existing region's level cannot change
  | 'not_polygon' // geometry is not a Polygon or MultiPolygon
  | 'out_of_range' // a coordinate outside [-180, 180] × [-90, 90]
  | 'projected_coordinates' // no CRS given and the coordinates look like metres
  | 'invalid_geometry' // ST_IsValidReason, or a ring that is not closed / too short
  | 'outside_parent' // the child is not inside its parent (beyond the tolerance)
  | 'overlap' // two siblings overlap (beyond the tolerance)
  | 'gap' // the children of a parent leave part of it uncovered (beyond the tolerance)

export interface ImportProblem {
  /** The feature's id; for a gap the parent's id; null when the feature has no usable id or for the whole file. */
  featureId: string | null
  /** 0-based position of the feature in the file (all layers of a zip in order). */
  index?: number
  field?: string
  code: ProblemCode
  reason: string
  /** [lon, lat] of the problem: the self-intersection, a point inside the overlap / gap / part outside. */
  location?: [number, number]
  areaM2?: number
  /** The other region involved (overlapping sibling, parent, child). */
  otherId?: string
}

export interface ImportOptions {
  /** Validate and report; write nothing. */
  dryRun?: boolean
  /** Replace invalid geometries by ST_MakeValid's polygons when that keeps the area (see REPAIR_AREA_TOLERANCE). */
  repair?: boolean
  toleranceM2?: number
}

export interface ImportReport {
  dryRun: boolean
  valid: true
  created: number
  updated: number
  unchanged: number
  /** Regions not in the file whose path changed because an ancestor moved (each gets a history row too). */
  repathed: number
}

/** What a reader hands the checks: one entry per feature of the file, properties not yet validated. */
export interface RawFeature {
  index: number
  /** Not a GeoJSON Feature at all (reported as invalid_feature). */
  notAFeature?: boolean
  properties: Record<string, unknown>
  /** Feature-level `id` of GeoJSON, used when properties.id is absent. */
  featureId?: unknown
  geometry: unknown
}

export interface ReadResult {
  features: RawFeature[]
  /** File-level problems (featureId null). */
  problems: ImportProblem[]
  /** True when a CRS was declared (a .prj, a GeoJSON `crs`): then coordinates are not tested for looking projected. */
  crsDeclared: boolean
}

/** A feature that passed the per-feature checks in JS (fields and geometry structure); fields may still be null. */
export interface ParsedFeature {
  index: number
  id: string | null
  name: string | null
  level: number | null
  parentId: string | null
  households: number | null
  population: number | null
  attributes: Record<string, unknown>
  /** GeoJSON Polygon/MultiPolygon, structurally sound (closed rings, finite numbers); null when unusable. */
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown } | null
  /** A later feature with an id already used in the file: its id takes no part in the hierarchy. */
  duplicate: boolean
  /** No problem found in JS: may take part in the SQL checks. */
  ok: boolean
}

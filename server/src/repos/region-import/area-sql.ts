import type { SqlMacros } from '../../db/sql-file.ts'

/**
 * m² per square degree at latitude `lat` (SQL expression, degrees) on the WGS84 ellipsoid: M·N·cos φ·(π/180)².
 * Areas are measured as the planar shapes GEOS computed (edges straight in lon/lat) scaled at the latitude of their
 * bounding-box centre. ST_Area(geography) would read every edge as a great-circle arc instead: a sliver with no
 * planar area along a parallel 20 km long (two children's shared vertex 1e-14° off their parent's edge, as after a
 * reprojection) then measures ~40,000 m², a false gap.
 */
const perSquareDegree = (lat: string) =>
  `(0.0003046174197867086 * 40680631590769 * 0.99330562000986 * cos(radians(${lat}))
     / power(1 - 0.00669437999014 * sin(radians(${lat}))^2, 2))`
const midLat = (g: string) => `((ST_YMin(${g}) + ST_YMax(${g})) / 2)`
/** m² per square degree at the middle latitude of the geometry expression `g`. */
const perSquareDegreeAt = (g: string) => perSquareDegree(midLat(g))
/** Area in m² of a lon/lat geometry expression (see perSquareDegree). */
const areaM2 = (g: string) => `(ST_Area(${g}) * ${perSquareDegreeAt(g)})`

/** Pieces of `parent` not covered by `covering` (SQL expressions): ST_SymDifference split up, pieces inside the parent. */
const uncovered = (parent: string, covering: string) => `
  SELECT ${areaM2('piece.geom')} AS m2, ST_PointOnSurface(piece.geom) AS pt
    FROM ST_Dump(ST_CollectionExtract(ST_SymDifference(${parent}, ${covering}), 3)) piece
   WHERE ST_Covers(${parent}, ST_PointOnSurface(piece.geom))`

/** What the import's .sql files call: {{areaM2(g)}}, {{perSquareDegreeAt(g)}}, {{uncovered(parent, covering)}}. */
export const AREA_SQL: SqlMacros = { areaM2, perSquareDegreeAt, uncovered }

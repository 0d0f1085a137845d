// shpjs 6 ships no types (the @types package describes v3). Only the low-level parsers we call are declared.
declare module 'shpjs' {
  /** Geometries of a .shp, reprojected to WGS84 when `prj` (the .prj text) is given; null for a null shape. */
  export function parseShp(shp: ArrayBuffer | ArrayBufferView, prj?: string): Array<{ type: string; coordinates: unknown } | null>
  /** Records of a .dbf, decoded with the .cpg's code page (UTF-8 when absent). */
  export function parseDbf(dbf: ArrayBuffer | ArrayBufferView, cpg?: string): Array<Record<string, unknown>>
}

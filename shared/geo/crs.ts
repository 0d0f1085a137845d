import gcoord from 'gcoord'

/**
 * Coordinate reference systems accepted on input. Storage is always WGS84 (EPSG:4326); Chinese map apps (AMap,
 * Tencent) emit GCJ-02, which is offset by a few hundred metres and must be converted on the way in.
 */
export const INPUT_CRS = ['wgs84', 'gcj02'] as const
export type InputCrs = (typeof INPUT_CRS)[number]

/** [lon, lat] in `crs` → WGS84 [lon, lat]. */
export function toWgs84(lon: number, lat: number, crs: InputCrs = 'wgs84'): [number, number] {
  if (crs === 'wgs84') return [lon, lat]
  const [x, y] = gcoord.transform([lon, lat], gcoord.GCJ02, gcoord.WGS84) as [number, number]
  return [x, y]
}

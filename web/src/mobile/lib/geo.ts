/** Metres between two [lon, lat] points on the sphere (haversine; enough for "how far is the case"). */
export function metresBetween(a: readonly [number, number], b: readonly [number, number]): number {
  const r = Math.PI / 180
  const s = Math.sin(((b[1] - a[1]) * r) / 2) ** 2 + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(((b[0] - a[0]) * r) / 2) ** 2
  return 2 * 6371008.8 * Math.asin(Math.sqrt(s))
}

export interface Fix {
  lon: number
  lat: number
  accuracyM: number | null
  at: string
}

/** One position from the phone (WGS84 from the Geolocation API), or an error the caller shows in words. */
export function currentFix(timeoutMs = 15_000): Promise<Fix> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) return reject(new Error('no_geolocation'))
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracyM: p.coords.accuracy ?? null, at: new Date(p.timestamp).toISOString() }),
      (e) => reject(new Error(e.code === e.PERMISSION_DENIED ? 'denied' : e.code === e.TIMEOUT ? 'timeout' : 'unavailable')),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30_000 },
    )
  })
}

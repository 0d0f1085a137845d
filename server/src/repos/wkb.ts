/** Geometry as PostGIS hands it over (ST_AsBinary), read in Node: the cell index (resolve/) and the patrol's areas. */

/** The rings of a WKB (Multi)Polygon as flat [x0, y0, x1, y1, …] arrays, closed (first point repeated last). */
export function wkbRings(wkb: Uint8Array): Float64Array[] {
  const view = new DataView(wkb.buffer, wkb.byteOffset, wkb.byteLength)
  let at = 0
  const rings: Float64Array[] = []
  const header = () => {
    const le = view.getUint8(at) === 1
    const type = view.getUint32(at + 1, le)
    at += 5
    return { le, type }
  }
  const polygon = (le: boolean) => {
    const n = view.getUint32(at, le)
    at += 4
    for (let r = 0; r < n; r++) {
      const points = view.getUint32(at, le)
      at += 4
      const ring = new Float64Array(points * 2)
      for (let i = 0; i < points * 2; i++, at += 8) ring[i] = view.getFloat64(at, le)
      rings.push(ring)
    }
  }
  const { le, type } = header()
  if (type === 3) polygon(le)
  else if (type === 6) {
    const n = view.getUint32(at, le)
    at += 4
    for (let i = 0; i < n; i++) {
      const h = header()
      if (h.type !== 3) throw new Error(`WKB: a MultiPolygon holding type ${h.type}`)
      polygon(h.le)
    }
  } else throw new Error(`WKB: type ${type} is not a (Multi)Polygon`)
  return rings
}

/**
 * A minimal ESRI Shapefile writer for tests (polygons only): .shp + .shx + .dbf (+ .prj, .cpg), zipped with fflate.
 * Layout per the ESRI Shapefile Technical Description (July 1998): big-endian file header words, little-endian
 * records; outer rings clockwise. DBF is dBase III with C (text) and N (number) fields.
 */
import { zipSync } from 'fflate'

export type Ring = Array<[number, number]>

export interface DbfField {
  name: string // at most 10 characters
  type: 'C' | 'N'
  length: number
}

export interface Layer {
  name: string
  /** One polygon per record, each a list of rings (first outer); orientation is fixed here (outer clockwise). */
  polygons: Ring[][]
  fields: DbfField[]
  records: Array<Record<string, string | number | null>>
  prj?: string
  cpg?: string
}

const signedArea = (r: Ring) => r.reduce((s, [x, y], i) => s + (i ? (r[i - 1][0] - x) * (r[i - 1][1] + y) : 0), 0)
/** Shapefile outer rings are clockwise, holes counter-clockwise. */
const orient = (r: Ring, clockwise: boolean): Ring => ((signedArea(r) > 0) === clockwise ? r : [...r].reverse())

function shpAndShx(polygons: Ring[][]): { shp: Uint8Array; shx: Uint8Array } {
  const contents = polygons.map((rings) => {
    const oriented = rings.map((r, i) => orient(r, i === 0))
    const points = oriented.flat()
    const buf = Buffer.alloc(44 + 4 * oriented.length + 16 * points.length)
    buf.writeInt32LE(5, 0) // Polygon
    const xs = points.map((p) => p[0])
    const ys = points.map((p) => p[1])
    buf.writeDoubleLE(Math.min(...xs), 4)
    buf.writeDoubleLE(Math.min(...ys), 12)
    buf.writeDoubleLE(Math.max(...xs), 20)
    buf.writeDoubleLE(Math.max(...ys), 28)
    buf.writeInt32LE(oriented.length, 36)
    buf.writeInt32LE(points.length, 40)
    let start = 0
    oriented.forEach((r, i) => {
      buf.writeInt32LE(start, 44 + 4 * i)
      start += r.length
    })
    points.forEach(([x, y], i) => {
      const at = 44 + 4 * oriented.length + 16 * i
      buf.writeDoubleLE(x, at)
      buf.writeDoubleLE(y, at + 8)
    })
    return buf
  })
  const all = polygons.flat(2)
  const header = (fileBytes: number) => {
    const h = Buffer.alloc(100)
    h.writeInt32BE(9994, 0)
    h.writeInt32BE(fileBytes / 2, 24)
    h.writeInt32LE(1000, 28)
    h.writeInt32LE(5, 32)
    h.writeDoubleLE(Math.min(...all.map((p) => p[0])), 36)
    h.writeDoubleLE(Math.min(...all.map((p) => p[1])), 44)
    h.writeDoubleLE(Math.max(...all.map((p) => p[0])), 52)
    h.writeDoubleLE(Math.max(...all.map((p) => p[1])), 60)
    return h
  }
  const shpLength = 100 + contents.reduce((s, c) => s + 8 + c.length, 0)
  const parts: Buffer[] = [header(shpLength)]
  const index: Buffer[] = [header(100 + 8 * contents.length)]
  let offset = 100
  contents.forEach((c, i) => {
    const rh = Buffer.alloc(8)
    rh.writeInt32BE(i + 1, 0)
    rh.writeInt32BE(c.length / 2, 4)
    parts.push(rh, c)
    const ix = Buffer.alloc(8)
    ix.writeInt32BE(offset / 2, 0)
    ix.writeInt32BE(c.length / 2, 4)
    index.push(ix)
    offset += 8 + c.length
  })
  return { shp: Buffer.concat(parts), shx: Buffer.concat(index) }
}

function dbf(fields: DbfField[], records: Layer['records']): Uint8Array {
  const headerLength = 32 + 32 * fields.length + 1
  const recordLength = 1 + fields.reduce((s, f) => s + f.length, 0)
  const buf = Buffer.alloc(headerLength + recordLength * records.length + 1, 0x20)
  buf.fill(0, 0, headerLength)
  buf.writeUInt8(0x03, 0)
  buf.writeUInt8(126, 1) // 2026
  buf.writeUInt8(1, 2)
  buf.writeUInt8(1, 3)
  buf.writeUInt32LE(records.length, 4)
  buf.writeUInt16LE(headerLength, 8)
  buf.writeUInt16LE(recordLength, 10)
  fields.forEach((f, i) => {
    const at = 32 + 32 * i
    buf.write(f.name, at, 10, 'latin1')
    buf.write(f.type, at + 11, 1, 'latin1')
    buf.writeUInt8(f.length, at + 16)
  })
  buf.writeUInt8(0x0d, headerLength - 1)
  records.forEach((rec, r) => {
    let at = headerLength + r * recordLength
    buf.write(' ', at++, 'latin1') // not deleted
    for (const f of fields) {
      const v = rec[f.name]
      const text = v === null || v === undefined ? '' : String(v)
      const bytes = Buffer.from(text, 'utf8')
      if (bytes.length > f.length) throw new Error(`value ${text} is too long for ${f.name}`)
      // Text is left-aligned, numbers right-aligned, both padded with spaces.
      bytes.copy(buf, f.type === 'N' ? at + f.length - bytes.length : at)
      at += f.length
    }
  })
  buf.writeUInt8(0x1a, buf.length - 1)
  return buf
}

/** The files of one layer by name (`${name}.shp`, …). */
export function layerFiles(layer: Layer): Record<string, Uint8Array> {
  const { shp, shx } = shpAndShx(layer.polygons)
  const files: Record<string, Uint8Array> = {
    [`${layer.name}.shp`]: shp,
    [`${layer.name}.shx`]: shx,
    [`${layer.name}.dbf`]: dbf(layer.fields, layer.records),
  }
  if (layer.prj) files[`${layer.name}.prj`] = Buffer.from(layer.prj, 'utf8')
  if (layer.cpg) files[`${layer.name}.cpg`] = Buffer.from(layer.cpg, 'utf8')
  return files
}

export function zipLayers(layers: Layer[]): Buffer {
  return Buffer.from(zipSync(Object.assign({}, ...layers.map(layerFiles))))
}

/** The DBF columns the import reads (names of at most 10 characters). */
export const REGION_FIELDS: DbfField[] = [
  { name: 'id', type: 'C', length: 32 },
  { name: 'name', type: 'C', length: 60 },
  { name: 'level', type: 'N', length: 1 },
  { name: 'parentId', type: 'C', length: 32 },
  { name: 'households', type: 'N', length: 9 },
]

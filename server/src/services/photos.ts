import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp'
import { MAX_PHOTO_BYTES, MAX_PHOTOS_PER_CASE, type Photo, type PhotoMime } from '../../../shared/schemas/photo.ts'
import type { Db, Queryable } from '../db/types.ts'
import { insertPhotos, lockPhotoRows, setPhotosOwner, toPhoto, type NewPhoto, type PhotoOwner } from '../repos/photos.ts'
import { HttpError } from './http-error.ts'

export { MAX_PHOTO_BYTES, MAX_PHOTOS_PER_CASE }

/**
 * Decompression-bomb guard: a 10 MB PNG can claim billions of pixels. 100 MP still takes a 50 MP phone shot
 * (8160 × 6144) at full resolution; decoding that needs about 300 MB while it is rotated and re-encoded.
 */
export const MAX_PHOTO_PIXELS = 100_000_000

type Format = 'jpeg' | 'png' | 'webp'

const FORMATS: Record<Format, { mime: PhotoMime; ext: string }> = {
  jpeg: { mime: 'image/jpeg', ext: 'jpg' },
  png: { mime: 'image/png', ext: 'png' },
  webp: { mime: 'image/webp', ext: 'webp' },
}

export const extForMime = (mime: PhotoMime): string => Object.values(FORMATS).find((f) => f.mime === mime)!.ext

/**
 * Decoding untrusted input: 'warning' (sharp's most sensitive level, its advice for untrusted input) refuses
 * truncated and corrupt pixel data instead of decoding what it can; only the first frame of an animation is read.
 */
const DECODE: SharpOptions = { failOn: 'warning', limitInputPixels: MAX_PHOTO_PIXELS, pages: 1 }

/** The format by magic bytes alone; the file name and the declared Content-Type are never consulted. */
export function sniffImage(buf: Buffer): Format | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg'
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png'
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'webp'
  return undefined
}

export interface ProcessedImage {
  /** The re-encoded file: no EXIF/XMP/IPTC/ICC/comments, pixels already turned upright. */
  data: Buffer
  mime: PhotoMime
  ext: string
  width: number
  height: number
  sha256: string
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]

function decodeError(err: unknown, field: string, format: Format): HttpError {
  const reason = firstLine(err)
  return /pixel limit/i.test(reason)
    ? new HttpError(422, 'image_too_large', `${field} has more than ${MAX_PHOTO_PIXELS / 1e6} megapixels`, field)
    : new HttpError(422, 'corrupt_image', `${field} is a damaged or unreadable ${format.toUpperCase()} image (${reason})`, field)
}

/**
 * Checks and cleans one uploaded image. Sniffs JPEG/PNG/WebP by content, decodes it strictly (corrupt data and
 * more than MAX_PHOTO_PIXELS refused), applies the EXIF orientation to the pixels and re-encodes it in the same
 * format with every metadata block dropped — EXIF (GPS included), XMP, comments and anything appended to the file
 * do not survive. Errors are HttpErrors naming `field`: 400 empty, 413 too big, 415 not an accepted image,
 * 422 undecodable or too many pixels.
 */
export async function processImage(buf: Buffer, field: string): Promise<ProcessedImage> {
  if (buf.length === 0) throw new HttpError(400, 'empty_file', `${field} is an empty file`, field)
  if (buf.length > MAX_PHOTO_BYTES) {
    throw new HttpError(413, 'file_too_large', `${field} is larger than ${MAX_PHOTO_BYTES / 1024 / 1024} MB`, field)
  }
  const format = sniffImage(buf)
  if (!format) {
    throw new HttpError(415, 'unsupported_media_type', `${field} is not a JPEG, PNG or WebP image (judged by its content, not its name or declared type)`, field)
  }
  let meta: Metadata
  try {
    meta = await sharp(buf, DECODE).metadata()
  } catch (err) {
    throw decodeError(err, field, format)
  }
  if (meta.format !== format) {
    throw new HttpError(415, 'unsupported_media_type', `${field} looks like ${format.toUpperCase()} but decodes as ${meta.format}`, field)
  }
  if (!meta.width || !meta.height || meta.width * meta.height > MAX_PHOTO_PIXELS) {
    throw new HttpError(422, 'image_too_large', `${field} has ${meta.width} × ${meta.height} pixels; at most ${MAX_PHOTO_PIXELS / 1e6} megapixels are accepted`, field)
  }

  // No withMetadata()/keep*(): sharp writes no EXIF, XMP, IPTC or ICC (colours are converted to sRGB).
  const pipeline = sharp(buf, DECODE).rotate().timeout({ seconds: 30 })
  const encoded = format === 'jpeg' ? pipeline.jpeg({ quality: 85 }) : format === 'png' ? pipeline.png() : pipeline.webp({ quality: 85 })
  let out: { data: Buffer; info: OutputInfo }
  try {
    out = await encoded.toBuffer({ resolveWithObject: true })
  } catch (err) {
    throw decodeError(err, field, format)
  }
  return {
    data: out.data,
    ...FORMATS[format],
    width: out.info.width,
    height: out.info.height,
    sha256: createHash('sha256').update(out.data).digest('hex'),
  }
}

/** Where a photo's bytes live: `<uploadsDir>/<first 2 hex of id>/<id>.<ext>` — server-made, never the upload's name. */
export function photoPath(uploadsDir: string, id: string, mime: PhotoMime): string {
  return join(uploadsDir, id.slice(0, 2), `${id}.${extForMime(mime)}`)
}

/** The uploader's file name for display: last path segment, no control or bidi characters, ≤ 200 characters. */
export function sanitizeFilename(name: string | undefined | null): string | null {
  if (!name) return null
  const last = name.split(/[\\/]/).pop() ?? ''
  const clean = last.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, '').trim()
  if (clean === '' || clean === '.' || clean === '..') return null
  return [...clean].slice(0, 200).join('')
}

export interface UploadedFile {
  /** The multipart part it came from, e.g. `photos[2]`: named in any error. */
  field: string
  filename?: string | null
  data: Buffer
}

async function removeQuietly(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlink(p).catch(() => {})))
}

/**
 * Stores 1..MAX_PHOTOS_PER_CASE photos all-or-nothing: every file is checked and re-encoded first (the first bad one
 * → its HttpError, nothing written), then written to a temporary name and renamed into place, then recorded in ONE
 * transaction; if the database refuses, the files are removed again. Returns the photos in the order given.
 * The photos are not attached to anything yet: see attachPhotos.
 */
export async function storePhotos(db: Db, uploadsDir: string, files: UploadedFile[], uploadedBy?: string | null): Promise<Photo[]> {
  if (files.length === 0) throw new HttpError(400, 'no_photos', 'send at least one photo, in file parts named "photos"', 'photos')
  if (files.length > MAX_PHOTOS_PER_CASE) {
    throw new HttpError(400, 'too_many_photos', `at most ${MAX_PHOTOS_PER_CASE} photos at a time; got ${files.length}`, 'photos')
  }
  const processed: ProcessedImage[] = []
  for (const f of files) processed.push(await processImage(f.data, f.field)) // one at a time: bounded memory

  const rows: NewPhoto[] = processed.map((p, i) => ({
    id: randomUUID(),
    mime: p.mime,
    width: p.width,
    height: p.height,
    bytes: p.data.length,
    sha256: p.sha256,
    originalName: sanitizeFilename(files[i].filename),
    uploadedBy: uploadedBy ?? null,
  }))

  const written: string[] = []
  try {
    for (let i = 0; i < rows.length; i++) {
      const final = photoPath(uploadsDir, rows[i].id, rows[i].mime)
      const dir = join(final, '..')
      await mkdir(dir, { recursive: true })
      const tmp = join(dir, `.${rows[i].id}.${randomBytes(6).toString('hex')}.tmp`)
      try {
        await writeFile(tmp, processed[i].data, { flag: 'wx', mode: 0o644 })
        await rename(tmp, final)
      } catch (err) {
        await removeQuietly([tmp])
        throw err
      }
      written.push(final)
    }
    await db.transaction((tx) => insertPhotos(tx, rows))
  } catch (err) {
    await removeQuietly(written)
    throw err
  }
  return rows.map(toPhoto)
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Attaches uploaded photos to a case (at intake, or with an action on it), inside the caller's transaction. Each id
 * must name a stored photo not attached to another case (re-attaching to the same case is a no-op), no id twice, at
 * most MAX_PHOTOS_PER_CASE per call; otherwise HttpError 422 naming `<field>[i]` (`<field>` for the count). The rows
 * are locked, so two cases racing for one photo cannot both get it. Returns the photos in the order given.
 *
 * `attacher` (who attaches: the reporter at intake, the actor of an action): a photo not yet attached that someone
 * uploaded under a name (signed in, or X-Actor) is attached only by that same caller; anyone else is told there is
 * no such photo (422 unknown_photo — a photo is not theirs to reveal). Photos uploaded anonymously (uploaded_by
 * NULL) go with whoever names them: their ids are random UUIDs, known only to the uploader.
 */
export async function attachPhotos(tx: Queryable, caseId: string, photoIds: string[], field = 'photos', attacher?: string | null): Promise<Photo[]> {
  return attachPhotosTo(tx, { caseId }, photoIds, field, attacher)
}

/** attachPhotos for a case or a patrol check-in: the same rules, a photo being another owner's is `photo_in_use`. */
export async function attachPhotosTo(tx: Queryable, owner: PhotoOwner, photoIds: string[], field = 'photos', attacher?: string | null): Promise<Photo[]> {
  if (photoIds.length === 0) return []
  if (photoIds.length > MAX_PHOTOS_PER_CASE) {
    throw new HttpError(422, 'too_many_photos', `at most ${MAX_PHOTOS_PER_CASE} photos at a time; got ${photoIds.length}`, field)
  }
  const ids = photoIds.map((raw, i) => {
    if (typeof raw !== 'string' || !UUID_RE.test(raw)) throw new HttpError(422, 'unknown_photo', `${field}[${i}] is not a photo id`, `${field}[${i}]`)
    return raw.toLowerCase()
  })
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) throw new HttpError(422, 'duplicate_photo', `${field}[${i}] repeats ${field}[${ids.indexOf(id)}]`, `${field}[${i}]`)
  })
  const byId = new Map((await lockPhotoRows(tx, ids)).map((r) => [r.id, r]))
  const ownedHere = (r: { caseId: string | null; checkinId: string | null }) =>
    'caseId' in owner ? r.caseId === owner.caseId : r.checkinId === owner.checkinId
  ids.forEach((id, i) => {
    const row = byId.get(id)
    if (!row) throw new HttpError(422, 'unknown_photo', `${field}[${i}]: no photo ${id}; upload it with POST /api/photos first`, `${field}[${i}]`)
    const attached = row.caseId !== null || row.checkinId !== null
    if (attached && !ownedHere(row)) {
      throw new HttpError(422, 'photo_in_use', `${field}[${i}]: photo ${id} belongs to another ${row.caseId ? 'case' : 'check-in'}`, `${field}[${i}]`)
    }
    if (attacher !== undefined && !attached && row.uploadedBy !== null && row.uploadedBy !== attacher) {
      throw new HttpError(422, 'unknown_photo', `${field}[${i}]: no photo ${id}; upload it with POST /api/photos first`, `${field}[${i}]`)
    }
  })
  const fresh = ids.filter((id) => !ownedHere(byId.get(id)!))
  if (fresh.length > 0) await setPhotosOwner(tx, owner, fresh)
  return ids.map((id) => toPhoto(byId.get(id)!))
}

/** How long an uploaded photo waits to be attached to a case or check-in before pruneUnattachedPhotos removes it. */
export const UNATTACHED_PHOTO_HOURS = 24

/**
 * Removes photos uploaded more than `olderThanHours` ago that were never attached to a case or a check-in: their rows
 * in ONE statement (a photo being attached at that moment is locked by attachPhotos, and the delete re-checks
 * case_id and checkin_id after the lock, so an attached photo is never removed), then their files. An upload is part of a report only once the
 * report names it; the client is told the photo's id at once and has a day to send the report. Returns how many.
 */
export async function pruneUnattachedPhotos(db: Db, uploadsDir: string, now: Date, olderThanHours = UNATTACHED_PHOTO_HOURS): Promise<number> {
  const { rows } = await db.query<{ id: string; mime: PhotoMime }>(
    `DELETE FROM photos WHERE case_id IS NULL AND checkin_id IS NULL AND created_at < $1::timestamptz - make_interval(hours => $2) RETURNING id, mime`,
    [now, olderThanHours],
  )
  await removeQuietly(rows.map((r) => photoPath(uploadsDir, r.id, r.mime)))
  return rows.length
}

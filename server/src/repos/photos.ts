import type { Photo, PhotoMime } from '../../../shared/schemas/photo.ts'
import type { Queryable } from '../db/types.ts'

export interface PhotoRow {
  id: string
  caseId: string | null
  mime: PhotoMime
  width: number
  height: number
  bytes: number
  sha256: string
  originalName: string | null
  uploadedBy: string | null
  createdAt: Date
}

/** A row as written: the case is attached later, the time is the database's. */
export type NewPhoto = Omit<PhotoRow, 'caseId' | 'createdAt'>

const COLUMNS = `id, case_id AS "caseId", mime, width, height, bytes, sha256, original_name AS "originalName",
                 uploaded_by AS "uploadedBy", created_at AS "createdAt"`

export const photoUrl = (id: string) => `/api/photos/${id}`

/** The public shape of a stored photo. */
export function toPhoto(row: Pick<PhotoRow, 'id' | 'mime' | 'width' | 'height' | 'bytes' | 'sha256'>): Photo {
  return { id: row.id, url: photoUrl(row.id), mime: row.mime, width: row.width, height: row.height, bytes: row.bytes, sha256: row.sha256 }
}

export async function insertPhotos(tx: Queryable, photos: NewPhoto[]): Promise<void> {
  for (const p of photos) {
    await tx.query(
      `INSERT INTO photos (id, mime, width, height, bytes, sha256, original_name, uploaded_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [p.id, p.mime, p.width, p.height, p.bytes, p.sha256, p.originalName, p.uploadedBy],
    )
  }
}

/** `id` must already be a valid uuid (the route schema checks it). */
export async function getPhotoRow(q: Queryable, id: string): Promise<PhotoRow | undefined> {
  const { rows } = await q.query<PhotoRow>(`SELECT ${COLUMNS} FROM photos WHERE id = $1`, [id])
  return rows[0]
}

/** Rows for the given ids, locked until the transaction ends (so two cases cannot claim one photo at once). */
export async function lockPhotoRows(tx: Queryable, ids: string[]): Promise<PhotoRow[]> {
  const { rows } = await tx.query<PhotoRow>(`SELECT ${COLUMNS} FROM photos WHERE id = ANY($1::uuid[]) FOR UPDATE`, [ids])
  return rows
}

export async function setPhotosCase(tx: Queryable, caseId: string, ids: string[]): Promise<void> {
  await tx.query('UPDATE photos SET case_id = $1 WHERE id = ANY($2::uuid[])', [caseId, ids])
}

/** The photos of a case, oldest first, in the public shape (for case detail responses). */
export async function listCasePhotos(q: Queryable, caseId: string): Promise<Photo[]> {
  const { rows } = await q.query<PhotoRow>(`SELECT ${COLUMNS} FROM photos WHERE case_id = $1 ORDER BY created_at, id`, [caseId])
  return rows.map(toPhoto)
}

import type { Photo, PhotoMime } from '../../../shared/schemas/photo.ts'
import type { Queryable } from '../db/types.ts'
import { caseReachSql } from '../auth/case-access.ts'
import { checkinReachSql } from '../auth/checkin-access.ts'
import { SENSITIVE_FAMILIES, publicCategorySql } from '../auth/public-data.ts'
import { actorOf, type AuthUser } from '../auth/roles.ts'
import { SqlBuilder } from './sql.ts'

export interface PhotoRow {
  id: string
  caseId: string | null
  /** The patrol check-in it belongs to (a photo belongs to a case or a check-in, never both). */
  checkinId: string | null
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
export type NewPhoto = Omit<PhotoRow, 'caseId' | 'checkinId' | 'createdAt'>

const COLUMNS = `id, case_id AS "caseId", checkin_id AS "checkinId", mime, width, height, bytes, sha256, original_name AS "originalName",
                 uploaded_by AS "uploadedBy", created_at AS "createdAt"`

/** COLUMNS for `photos p` joined with another table. */
const P_COLUMNS = `p.id, p.case_id AS "caseId", p.checkin_id AS "checkinId", p.mime, p.width, p.height, p.bytes, p.sha256, p.original_name AS "originalName",
                   p.uploaded_by AS "uploadedBy", p.created_at AS "createdAt"`

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

/**
 * Who asks for a photo (GET /api/photos/:id):
 * - a signed-in user: a photo attached to a case they may read (the case read rule, auth/case-access.ts), to a
 *   patrol check-in they may read (auth/checkin-access.ts), or an unattached photo they uploaded themselves;
 * - `public`: an anonymous caller in AUTH_MODE=token — a photo attached to a case of a public category (the ones
 *   Open311 links as media_url; auth/public-data.ts);
 * - `unscoped`: the dev-header stand-in (no token, AUTH_MODE=dev-header): any photo, as before identity.
 */
export type PhotoReader = { user: AuthUser } | 'public' | 'unscoped'

/**
 * The photo if `reader` may see it — in the query, so a photo out of reach is indistinguishable from a missing one.
 * `id` must already be a valid uuid (the route schema checks it).
 */
export async function getReadablePhotoRow(q: Queryable, id: string, reader: PhotoReader): Promise<PhotoRow | undefined> {
  if (reader === 'unscoped') return getPhotoRow(q, id)
  const b = new SqlBuilder()
  const idParam = b.add(id)
  let reach: string
  if (reader === 'public') {
    reach = `p.case_id IS NOT NULL AND ${publicCategorySql('c.category', b.add(SENSITIVE_FAMILIES))}`
  } else {
    // Unattached: only its uploader (uploaded_by = actorOf(user), recorded by POST /api/photos since identity).
    reach = `(p.case_id IS NULL AND p.checkin_id IS NULL AND p.uploaded_by = ${b.add(actorOf(reader.user))})
             OR (p.case_id IS NOT NULL AND (${caseReachSql(reader.user, 'read', b)}))
             OR (p.checkin_id IS NOT NULL AND (${checkinReachSql(reader.user, b)}))`
  }
  const { rows } = await q.query<PhotoRow>(
    `SELECT ${P_COLUMNS}
       FROM photos p LEFT JOIN cases c ON c.id = p.case_id LEFT JOIN patrol_checkins k ON k.id = p.checkin_id
      WHERE p.id = ${idParam} AND (${reach})`,
    b.params,
  )
  return rows[0]
}

/** Rows for the given ids, locked until the transaction ends (so two cases cannot claim one photo at once). */
export async function lockPhotoRows(tx: Queryable, ids: string[]): Promise<PhotoRow[]> {
  const { rows } = await tx.query<PhotoRow>(`SELECT ${COLUMNS} FROM photos WHERE id = ANY($1::uuid[]) FOR UPDATE`, [ids])
  return rows
}

/** What a photo is attached to: a case or a patrol check-in. */
export type PhotoOwner = { caseId: string } | { checkinId: string }

export async function setPhotosOwner(tx: Queryable, owner: PhotoOwner, ids: string[]): Promise<void> {
  const column = 'caseId' in owner ? 'case_id' : 'checkin_id'
  await tx.query(`UPDATE photos SET ${column} = $1 WHERE id = ANY($2::uuid[])`, ['caseId' in owner ? owner.caseId : owner.checkinId, ids])
}

/** The photos of a case, oldest first, in the public shape (for case detail responses). */
export async function listCasePhotos(q: Queryable, caseId: string): Promise<Photo[]> {
  const { rows } = await q.query<PhotoRow>(`SELECT ${COLUMNS} FROM photos WHERE case_id = $1 ORDER BY created_at, id`, [caseId])
  return rows.map(toPhoto)
}

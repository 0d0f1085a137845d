import { Type, type Static } from 'typebox'

/** The only formats accepted, recognised by their content (magic bytes), never by file name or declared type. */
export const PHOTO_MIMES = ['image/jpeg', 'image/png', 'image/webp'] as const
export type PhotoMime = (typeof PHOTO_MIMES)[number]

/** Per file, before re-encoding (10 MiB). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024
/** Per upload request, and per case. */
export const MAX_PHOTOS_PER_CASE = 6

/** A stored photo: re-encoded (metadata stripped, EXIF orientation applied), served at `url`. */
export const PhotoSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** `/api/photos/<id>`; the content never changes, so it may be cached forever. */
  url: Type.String(),
  mime: Type.Unsafe<PhotoMime>({ type: 'string', enum: [...PHOTO_MIMES] }),
  /** Pixel size as displayed (after the EXIF orientation was applied). */
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  /** Size of the stored (re-encoded) file. */
  bytes: Type.Integer({ minimum: 1 }),
  /** Hex SHA-256 of the stored file. */
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
})
export type Photo = Static<typeof PhotoSchema>

/** 201 body of POST /api/photos, in the order the files were sent. */
export const PhotoUploadSchema = Type.Object({ photos: Type.Array(PhotoSchema) })
export type PhotoUpload = Static<typeof PhotoUploadSchema>

import { open, type FileHandle } from 'node:fs/promises'
import multipart, { type MultipartFile, type Multipart } from '@fastify/multipart'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { PhotoUploadSchema } from '../../../../shared/schemas/photo.ts'
import type { AppInstance } from '../../app-types.ts'
import { getReadablePhotoRow, type PhotoReader } from '../../repos/photos.ts'
import { callerOf } from '../caller.ts'
import { HttpError } from '../../services/http-error.ts'
import { MAX_PHOTO_BYTES, MAX_PHOTOS_PER_CASE, extForMime, photoPath, storePhotos, type UploadedFile } from '../../services/photos.ts'

export interface PhotoRoutesOptions {
  /** Where photo files are stored (created on demand). */
  uploadsDir: string
}

const FIELD = 'photos'
const MB = MAX_PHOTO_BYTES / 1024 / 1024
const tooLarge = (field: string) => new HttpError(413, 'file_too_large', `${field} is larger than ${MB} MB`, field)
const tooMany = () => new HttpError(400, 'too_many_photos', `at most ${MAX_PHOTOS_PER_CASE} photos at a time; more were sent`, FIELD)

/**
 * After refusing a request part-way, throw the rest of its body away. The multipart parser stops pulling once we stop
 * iterating, and Node does not drain a request that somebody started reading, so without this the connection would
 * hang until the client gave up (and server.close() with it).
 */
function discardRest(req: FastifyRequest): void {
  req.raw.unpipe()
  req.raw.resume()
}

/** The file parts named `photos`, read into memory (≤ 10 MB each, ≤ 6); any other part is refused by name. */
async function readPhotoParts(req: FastifyRequest): Promise<UploadedFile[]> {
  const files: UploadedFile[] = []
  try {
    for await (const part of req.parts() as AsyncIterableIterator<Multipart>) {
      if (part.fieldname !== FIELD || part.type !== 'file') {
        const what = part.type === 'file' ? 'a file' : 'a text field'
        throw new HttpError(400, 'unexpected_field', `only file parts named "${FIELD}" are accepted; "${part.fieldname}" is ${what}`, part.fieldname)
      }
      const field = `${FIELD}[${files.length}]`
      if (files.length === MAX_PHOTOS_PER_CASE) throw tooMany()
      const file: MultipartFile = part
      let data: Buffer
      try {
        data = await file.toBuffer()
      } catch (err) {
        if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(field)
        throw err
      }
      if (data.length > MAX_PHOTO_BYTES) throw tooLarge(field)
      files.push({ field, filename: file.filename, data })
    }
  } catch (err) {
    discardRest(req)
    switch ((err as { code?: string }).code) {
      case 'FST_FILES_LIMIT':
        throw tooMany()
      case 'FST_FIELDS_LIMIT':
      case 'FST_PARTS_LIMIT':
        throw new HttpError(413, 'too_many_parts', `only file parts named "${FIELD}" are accepted, at most ${MAX_PHOTOS_PER_CASE}`, FIELD)
      case 'FST_PROTO_VIOLATION':
        throw new HttpError(400, 'unexpected_field', `only file parts named "${FIELD}" are accepted`, FIELD)
    }
    // The parser's own complaints (a cut-off body, a bad boundary) carry no status: they are the client's fault.
    if (!(err instanceof HttpError) && !(err as { statusCode?: number }).statusCode) {
      throw new HttpError(400, 'invalid_multipart', `the multipart/form-data body is malformed (${(err as Error).message})`, FIELD)
    }
    throw err
  }
  return files
}

/**
 * Photo upload and download. @fastify/multipart is registered inside this plugin only, so the JSON routes never
 * see multipart bodies.
 */
export default async function photoRoutes(app: AppInstance, opts: PhotoRoutesOptions) {
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: {
      fileSize: MAX_PHOTO_BYTES + 1, // one byte over → we know it is too big and say so, naming the part
      files: MAX_PHOTOS_PER_CASE + 1, // one file over → "at most 6", not a bare parser error
      fields: 4,
      fieldSize: 1024,
      fieldNameSize: 100,
      parts: MAX_PHOTOS_PER_CASE + 5,
      headerPairs: 20,
    },
  })

  app.post(
    '/api/photos',
    {
      schema: {
        description: `multipart/form-data with 1–${MAX_PHOTOS_PER_CASE} file parts named "${FIELD}" (JPEG, PNG or WebP, ≤ ${MB} MB each). All or nothing.`,
        response: { 201: PhotoUploadSchema, 400: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema, 422: ErrorSchema },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) {
        throw new HttpError(415, 'unsupported_media_type', `send multipart/form-data with file parts named "${FIELD}"`, FIELD)
      }
      const files = await readPhotoParts(req)
      // Recorded so that the uploader, and only they, can fetch the photo before it is attached to a case.
      const photos = await storePhotos(app.db, opts.uploadsDir, files, callerOf(req))
      return reply.code(201).send({ photos })
    },
  )

  app.get(
    '/api/photos/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: {
            description: 'the image as stored (re-encoded at upload, no EXIF)',
            content: Object.fromEntries(['image/jpeg', 'image/png', 'image/webp'].map((t) => [t, { schema: Type.Unsafe<unknown>({ type: 'string', format: 'binary' }) }])),
          },
          // Sent without a body (send()), so typed as undefined; `type: 'null'` documents it as no content.
          304: Type.Unsafe<undefined>({ type: 'null', description: 'unchanged: If-None-Match names its ETag' }),
          400: ErrorSchema,
          401: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      // Scoped in the query (repos/photos.ts getReadablePhotoRow): a photo the caller may not see answers the same
      // 404 as a missing one. Anonymous in AUTH_MODE=token: only photos of public-category cases (what Open311
      // links as media_url); dev-header without a token: unscoped, as before identity.
      const devHeader = (app.auth?.options.mode ?? 'dev-header') === 'dev-header'
      const reader: PhotoReader = req.user ? { user: req.user } : devHeader ? 'unscoped' : 'public'
      const row = await getReadablePhotoRow(app.db, req.params.id, reader)
      if (!row && reader === 'public') {
        throw new HttpError(401, 'unauthenticated', 'sign in first: Authorization: Bearer <access token> (POST /api/auth/login)')
      }
      if (!row) throw new HttpError(404, 'not_found', `no photo ${req.params.id}`, 'id')
      const etag = `"${row.sha256}"`
      reply
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        // A photo one caller may see and another may not must not sit in a shared cache: private when signed in.
        .header('cache-control', `${req.user ? 'private' : 'public'}, max-age=31536000, immutable`)
        .header('etag', etag)
      if (req.headers['if-none-match'] === etag) return reply.code(304).send()

      let fh: FileHandle
      try {
        fh = await open(photoPath(opts.uploadsDir, row.id, row.mime), 'r')
      } catch (err) {
        req.log.error({ err, photo: row.id }, 'photo file missing from the uploads dir')
        reply.removeHeader('cache-control').removeHeader('etag')
        throw new HttpError(404, 'not_found', `photo ${row.id} has no stored file`, 'id')
      }
      return reply
        .type(row.mime)
        .header('content-length', row.bytes)
        .header('content-disposition', `inline; filename="${row.id}.${extForMime(row.mime)}"`)
        .send(fh.createReadStream())
    },
  )
}

import { createHash, randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, Queryable } from '../../src/db/types.ts'
import { HttpError } from '../../src/services/http-error.ts'
import { MAX_PHOTO_BYTES, MAX_PHOTOS_PER_CASE, attachPhotos, pruneUnattachedPhotos, sanitizeFilename } from '../../src/services/photos.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import * as img from '../fixtures/images.ts'

const PAYLOAD = '<html><body><script>alert(document.cookie)</script></body></html>'
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Every file under dir, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort()
}

describe.each(DB_MODES)('photos API (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  let root: string
  let uploadsDir: string

  beforeAll(async () => {
    db = await testDb(mode)
    // The uploads dir sits two levels below a scratch root, so `../../x` from it still lands inside the root.
    root = mkdtempSync(join(tmpdir(), 'gc-test-photos-'))
    uploadsDir = join(root, 'data', 'uploads')
    app = await buildApp({ db, uploadsDir })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    rmSync(root, { recursive: true, force: true })
  })

  const upload = (parts: img.Part[]) => app.inject({ method: 'POST', url: '/api/photos', ...img.multipart(parts) })
  const photo = (data: Buffer | string, filename = 'photo.jpg', type = 'image/jpeg'): img.Part => ({ name: 'photos', filename, type, data })

  async function stored() {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM photos')
    return { rows: rows[0].n, files: filesUnder(root) }
  }

  /** Uploads, expects a 4xx naming `field`, and checks that nothing was stored. */
  async function refused(parts: img.Part[], status: number, error: string, field: string) {
    const before = await stored()
    const res = await upload(parts)
    expect(res.statusCode, res.body).toBe(status)
    expect(res.json()).toMatchObject({ error, field })
    expect(res.json().message).toContain(field)
    expect(await stored()).toEqual(before)
    return res.json()
  }

  it('stores JPEG, PNG and WebP under server-made names and serves them back with nosniff', async () => {
    const before = await stored()
    const inputs = [await img.jpeg(), await img.png(), await img.webp()]
    const res = await upload([photo(inputs[0], 'a.jpg'), photo(inputs[1], 'b.png', 'image/png'), photo(inputs[2], 'c.webp', 'image/webp')])
    expect(res.statusCode, res.body).toBe(201)
    const { photos } = res.json()
    expect(photos.map((p: any) => [p.mime, p.width, p.height])).toEqual([['image/jpeg', 40, 20], ['image/png', 24, 16], ['image/webp', 30, 10]])

    const exts = ['jpg', 'png', 'webp']
    for (const [i, p] of photos.entries()) {
      expect(p.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(p.url).toBe(`/api/photos/${p.id}`)
      const onDisk = readFileSync(join(uploadsDir, p.id.slice(0, 2), `${p.id}.${exts[i]}`))
      expect(onDisk.length).toBe(p.bytes)
      expect(sha256(onDisk)).toBe(p.sha256)

      const got = await app.inject(p.url)
      expect(got.statusCode).toBe(200)
      expect(got.headers['content-type']).toBe(p.mime)
      expect(got.headers['x-content-type-options']).toBe('nosniff')
      expect(got.headers['content-disposition']).toBe(`inline; filename="${p.id}.${exts[i]}"`)
      expect(got.headers['cache-control']).toMatch(/max-age=31536000.*immutable/)
      expect(Number(got.headers['content-length'])).toBe(p.bytes)
      expect(sha256(got.rawPayload)).toBe(p.sha256)
      expect((await app.inject({ url: p.url, headers: { 'if-none-match': got.headers.etag as string } })).statusCode).toBe(304)
    }
    const after = await stored()
    expect(after.rows).toBe(before.rows + 3)
    expect(after.files.length).toBe(before.files.length + 3)
    const { rows } = await db.query('SELECT original_name AS name, case_id AS "caseId" FROM photos WHERE id = ANY($1::uuid[]) ORDER BY created_at', [photos.map((p: any) => p.id)])
    expect(rows).toEqual([{ name: 'a.jpg', caseId: null }, { name: 'b.png', caseId: null }, { name: 'c.webp', caseId: null }])
  })

  it('removes EXIF — GPS included — and keeps the orientation by turning the pixels', async () => {
    const input = await img.jpegWithGpsAndOrientation()
    const inMeta = await sharp(input).metadata()
    expect([inMeta.width, inMeta.height, inMeta.orientation]).toEqual([40, 20, 6]) // raw orientation: landscape, "rotate me"
    expect(inMeta.exif).toBeDefined()
    expect(inMeta.exif!.includes(Buffer.from([0x88, 0x25])) || inMeta.exif!.includes(Buffer.from([0x25, 0x88]))).toBe(true) // GPS IFD pointer
    expect(input.includes(Buffer.from('GridCommandTestCam'))).toBe(true)

    const res = await upload([photo(input, 'IMG_0001.JPG')])
    expect(res.statusCode, res.body).toBe(201)
    const p = res.json().photos[0]
    expect([p.width, p.height]).toEqual([20, 40])

    const file = readFileSync(join(uploadsDir, p.id.slice(0, 2), `${p.id}.jpg`))
    const meta = await sharp(file).metadata()
    expect(meta.exif).toBeUndefined()
    expect(meta.xmp).toBeUndefined()
    expect(meta.orientation).toBeUndefined()
    expect([meta.width, meta.height]).toEqual([20, 40]) // swapped: the rotation is in the pixels now
    expect(file.includes(Buffer.from('Exif\0\0'))).toBe(false)
    expect(file.includes(Buffer.from('GridCommandTestCam'))).toBe(false)

    // Orientation 6 turns the image 90° clockwise: the red left half is now on top, the blue right half below.
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true })
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)]
    const [top, bottom] = [px(10, 5), px(10, 34)]
    expect(top[0]).toBeGreaterThan(200)
    expect(top[2]).toBeLessThan(60)
    expect(bottom[2]).toBeGreaterThan(200)
    expect(bottom[0]).toBeLessThan(60)
  })

  it.each([
    ['JPEG with a script in a comment segment and after EOI', () => img.jpegPolyglot(PAYLOAD), 'image/jpeg', 'jpg'],
    ['PNG with a script in a tEXt chunk and after IEND', () => img.pngPolyglot(PAYLOAD), 'image/png', 'png'],
  ])('stores a polyglot (%s) as a clean re-encode without the payload', async (_what, make, mime, ext) => {
    const input = await make()
    expect(input.includes(Buffer.from('<script>'))).toBe(true)
    const res = await upload([photo(input, `poly.${ext}`, mime)])
    expect(res.statusCode, res.body).toBe(201)
    const p = res.json().photos[0]
    expect(p.mime).toBe(mime)
    const file = readFileSync(join(uploadsDir, p.id.slice(0, 2), `${p.id}.${ext}`))
    expect(file.includes(Buffer.from('script'))).toBe(false)
    expect(file.includes(Buffer.from('<html'))).toBe(false)
    expect(file.length).toBe(p.bytes)
    const served = await app.inject(p.url)
    expect(served.rawPayload.includes(Buffer.from('script'))).toBe(false)
    expect(served.headers['x-content-type-options']).toBe('nosniff')
  })

  it('answers 415 naming the part for an HTML file named photo.jpg and declared image/jpeg, and stores nothing', async () => {
    await refused([photo(PAYLOAD)], 415, 'unsupported_media_type', 'photos[0]')
    // All or nothing: a good photo before it is not kept either.
    await refused([photo(await img.jpeg()), photo(await img.png(), 'x.png', 'image/png'), photo(PAYLOAD)], 415, 'unsupported_media_type', 'photos[2]')
  })

  it('answers 400 for a 0-byte file, naming it', async () => {
    await refused([photo(await img.jpeg()), photo(Buffer.alloc(0))], 400, 'empty_file', 'photos[1]')
  })

  it('answers 413 naming the part for a file over 10 MB (one byte over, and well over)', async () => {
    const justOver = Buffer.concat([await img.jpeg(), Buffer.alloc(MAX_PHOTO_BYTES + 1)]).subarray(0, MAX_PHOTO_BYTES + 1)
    const body = await refused([photo(await img.jpeg()), photo(justOver)], 413, 'file_too_large', 'photos[1]')
    expect(body.message).toMatch(/10 MB/)
    await refused([photo(Buffer.alloc(12 * 1024 * 1024, 0xff))], 413, 'file_too_large', 'photos[0]')
  })

  it('accepts a file of exactly 10 MB (the limit is inclusive)', async () => {
    // A valid JPEG padded after EOI to exactly MAX_PHOTO_BYTES: the padding is dropped by the re-encode.
    const exact = Buffer.concat([await img.jpeg(), Buffer.alloc(MAX_PHOTO_BYTES)]).subarray(0, MAX_PHOTO_BYTES)
    const res = await upload([photo(exact)])
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().photos[0].bytes).toBeLessThan(10_000)
  })

  it('answers over real HTTP too when it stops reading early (the client gets the answer, not a reset connection)', async () => {
    const server = await startServer({ db, uploadsDir })
    const big = Buffer.concat([await img.jpeg(), Buffer.alloc(3 * 1024 * 1024, 1)]) // a valid JPEG padded to 3 MB
    const post = async (parts: [string, Buffer | string, string?][]) => {
      const form = new FormData()
      for (const [name, data, filename] of parts) {
        if (filename) form.append(name, new Blob([new Uint8Array(data as Buffer)], { type: 'image/jpeg' }), filename)
        else form.append(name, data as string)
      }
      const res = await fetch(`${server.url}/api/photos`, { method: 'POST', body: form })
      return { status: res.status, body: await res.json() }
    }
    try {
      const before = await stored()
      expect(await post([['photos', await img.jpeg(), 'ok.jpg'], ['photos', Buffer.alloc(11 * 1024 * 1024, 1), 'big.jpg']])).toMatchObject({
        status: 413,
        body: { error: 'file_too_large', field: 'photos[1]' },
      })
      const eight = Array.from({ length: 8 }, (_, i): [string, Buffer, string] => ['photos', big, `p${i}.jpg`])
      expect(await post(eight)).toMatchObject({ status: 400, body: { error: 'too_many_photos', field: 'photos' } })
      expect(await post([['note', 'hi'], ...eight.slice(0, 3)])).toMatchObject({ status: 400, body: { error: 'unexpected_field', field: 'note' } })
      expect(await stored()).toEqual(before)
      expect(await post(eight.slice(0, 2))).toMatchObject({ status: 201 })
    } finally {
      await server.app.close()
    }
  })

  it('stores a file named ../../etc/passwd.jpg under a server-made name inside the uploads dir', async () => {
    const before = await stored()
    const res = await upload([photo(await img.jpeg(), '../../etc/passwd.jpg'), photo(await img.png(), '..\\..\\win.ini.png', 'image/png')])
    expect(res.statusCode, res.body).toBe(201)
    const ids = res.json().photos.map((p: any) => p.id)
    const after = await stored()
    const added = after.files.filter((f) => !before.files.includes(f))
    expect(added.sort()).toEqual([join('data', 'uploads', ids[0].slice(0, 2), `${ids[0]}.jpg`), join('data', 'uploads', ids[1].slice(0, 2), `${ids[1]}.png`)].sort())
    expect(existsSync(join(uploadsDir, '../../etc/passwd.jpg'))).toBe(false)
    expect(after.files.every((f) => !relative(uploadsDir, join(root, f)).startsWith('..'))).toBe(true)
    const { rows } = await db.query<{ name: string }>('SELECT original_name AS name FROM photos WHERE id = ANY($1::uuid[]) ORDER BY created_at', [ids])
    expect(rows.map((r) => r.name)).toEqual(['passwd.jpg', 'win.ini.png'])
  })

  it(`answers 400 for more than ${MAX_PHOTOS_PER_CASE} files and stores none of them`, async () => {
    const one = await img.jpeg()
    const seven = Array.from({ length: MAX_PHOTOS_PER_CASE + 1 }, (_, i) => photo(one, `p${i}.jpg`))
    const body = await refused(seven, 400, 'too_many_photos', 'photos')
    expect(body.message).toContain(`at most ${MAX_PHOTOS_PER_CASE}`)
    await refused([...seven, photo(one), photo(one)], 400, 'too_many_photos', 'photos') // past the parser's file limit too
    const six = await upload(seven.slice(0, MAX_PHOTOS_PER_CASE))
    expect(six.statusCode, six.body).toBe(201)
    expect(six.json().photos).toHaveLength(MAX_PHOTOS_PER_CASE)
  })

  it.each([
    ['garbage after JPEG magic bytes', async () => img.corruptJpeg(), 'image/jpeg', 'corrupt_image'],
    ['a JPEG cut off in its pixel data', () => img.truncatedJpeg(), 'image/jpeg', 'corrupt_image'],
    ['garbage after PNG magic bytes', async () => Buffer.concat([(await img.png()).subarray(0, 8), Buffer.alloc(300, 0x41)]), 'image/png', 'corrupt_image'],
    ['a PNG header claiming 30000 × 30000 pixels (decompression bomb)', async () => img.pngBombHeader(), 'image/png', 'image_too_large'],
  ])('answers 422 for %s, naming the part', async (_what, make, type, error) => {
    await refused([photo(await img.jpeg()), photo(await make(), 'x', type)], 422, error, 'photos[1]')
  })

  it('refuses requests that are not a list of photo files', async () => {
    await refused([], 400, 'no_photos', 'photos')
    await refused([{ name: 'photo', filename: 'a.jpg', type: 'image/jpeg', data: await img.jpeg() }], 400, 'unexpected_field', 'photo')
    await refused([photo(await img.jpeg()), { name: 'note', data: 'hello' }], 400, 'unexpected_field', 'note')
    const { payload, headers } = img.multipart([photo(await img.jpeg()), photo(await img.png())])
    const cut = await app.inject({ method: 'POST', url: '/api/photos', headers, payload: payload.subarray(0, payload.length - 60) })
    expect(cut.statusCode, cut.body).toBe(400)
    expect(cut.json()).toMatchObject({ error: 'invalid_multipart', field: 'photos' })
    const json = await app.inject({ method: 'POST', url: '/api/photos', payload: { photos: ['x'] } })
    expect(json.statusCode).toBe(415)
    expect(json.json()).toMatchObject({ error: 'unsupported_media_type', field: 'photos' })
  })

  it('leaves the other routes alone (multipart is only parsed inside the photo routes plugin)', async () => {
    expect(app.hasContentTypeParser('multipart/form-data')).toBe(false)
    const res = await app.inject({ method: 'POST', url: '/api/regions/import', ...img.multipart([photo(await img.jpeg())]) })
    expect(res.statusCode).toBe(415)
  })

  it('answers 404 in JSON for an unknown photo and 400 for a malformed id', async () => {
    const res = await app.inject('/api/photos/00000000-0000-4000-8000-000000000000')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ error: 'not_found' })
    const bad = await app.inject('/api/photos/..%2F..%2Fetc%2Fpasswd')
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ field: 'id' })
  })

  it('prunes photos never attached to a report after a day, files and rows; attached ones stay', async () => {
    const one = await img.jpeg()
    const up = await upload([photo(one), photo(one)])
    expect(up.statusCode).toBe(201)
    const [kept, orphan] = up.json().photos.map((p: any) => p.id) as string[]
    const report = await app.inject({
      method: 'POST',
      url: '/api/cases',
      payload: { category: 'sanitation', description: '带照片的上报', lon: 119.644077, lat: 29.0709078, photos: [kept] },
    })
    expect(report.statusCode, report.body).toBe(201)
    const fileOf = (id: string) => filesUnder(root).find((f) => f.includes(id))
    expect(fileOf(orphan)).toBeDefined()
    // Not a day old yet: nothing of ours goes.
    await pruneUnattachedPhotos(db, uploadsDir, new Date())
    expect((await app.inject(`/api/photos/${orphan}`)).statusCode).toBe(200)
    // A day and an hour later: the orphan's row and file are gone, the attached photo is untouched.
    expect(await pruneUnattachedPhotos(db, uploadsDir, new Date(Date.now() + 25 * 3600_000))).toBeGreaterThanOrEqual(1)
    expect((await app.inject(`/api/photos/${orphan}`)).statusCode).toBe(404)
    expect(fileOf(orphan)).toBeUndefined()
    expect((await app.inject(`/api/photos/${kept}`)).statusCode).toBe(200)
    expect(fileOf(kept)).toBeDefined()
  })

  describe('attachPhotos', () => {
    /**
     * Runs fn inside a transaction that is always rolled back, with two made-up case ids. Foreign-key checks are off
     * for that transaction only (SET LOCAL session_replication_role), so the test does not depend on what a case row
     * needs; everything else (locks, checks) behaves as usual.
     */
    async function withCases<T>(fn: (tx: Queryable, caseA: string, caseB: string) => Promise<T>): Promise<T> {
      const rollback = new Error('rollback')
      let result: T
      await db
        .transaction(async (tx) => {
          await tx.query('SET LOCAL session_replication_role = replica')
          result = await fn(tx, randomUUID(), randomUUID())
          throw rollback
        })
        .catch((err) => {
          if (err !== rollback) throw err
        })
      return result!
    }

    const uploadIds = async (n: number): Promise<string[]> => {
      const one = await img.jpeg()
      const res = await upload(Array.from({ length: n }, () => photo(one)))
      expect(res.statusCode).toBe(201)
      return res.json().photos.map((p: any) => p.id)
    }

    const httpError = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e) => e)
      expect(err).toBeInstanceOf(HttpError)
      return { status: err.statusCode, error: err.code, field: err.field }
    }

    it('sets case_id, is idempotent for the same case, and refuses unknown, repeated, foreign and too many photos by index', async () => {
      const ids = await uploadIds(6)
      const [extra] = await uploadIds(1) // uploads go before the transaction: the embedded database runs one at a time
      await withCases(async (tx, a, b) => {
        const attached = await attachPhotos(tx, a, ids.slice(0, 2))
        expect(attached.map((p) => p.id)).toEqual(ids.slice(0, 2))
        const { rows } = await tx.query<{ caseId: string }>('SELECT case_id AS "caseId" FROM photos WHERE id = ANY($1::uuid[])', [ids.slice(0, 2)])
        expect(rows.map((r) => r.caseId)).toEqual([a, a])
        await attachPhotos(tx, a, [ids[1].toUpperCase()]) // same case again: fine
        expect(await attachPhotos(tx, a, [])).toEqual([])

        expect(await httpError(attachPhotos(tx, b, [ids[2], ids[0]]))).toEqual({ status: 422, error: 'photo_in_use', field: 'photos[1]' })
        expect(await httpError(attachPhotos(tx, b, [ids[2], '00000000-0000-4000-8000-000000000000']))).toEqual({ status: 422, error: 'unknown_photo', field: 'photos[1]' })
        expect(await httpError(attachPhotos(tx, b, ['not-a-uuid']))).toEqual({ status: 422, error: 'unknown_photo', field: 'photos[0]' })
        expect(await httpError(attachPhotos(tx, b, [ids[2], ids[3], ids[2]]))).toEqual({ status: 422, error: 'duplicate_photo', field: 'photos[2]' })
        expect(await httpError(attachPhotos(tx, b, [...ids, extra]))).toEqual({ status: 422, error: 'too_many_photos', field: 'photos' })
        expect(await attachPhotos(tx, b, ids.slice(2), 'evidence')).toHaveLength(4)
        expect(await httpError(attachPhotos(tx, a, [extra, ids[3]], 'evidence'))).toEqual({ status: 422, error: 'photo_in_use', field: 'evidence[1]' })
      })
    })
  })
})

describe('sanitizeFilename', () => {
  it.each([
    ['../../etc/passwd.jpg', 'passwd.jpg'],
    ['C:\\Users\\me\\IMG 1.jpg', 'IMG 1.jpg'],
    ['evil\u202Egpj.exe', 'evilgpj.exe'],
    ['a\u0000b\r\n.png', 'ab.png'],
    ['..', null],
    ['', null],
    [undefined, null],
  ])('%j → %j', (input, out) => {
    expect(sanitizeFilename(input)).toBe(out)
  })
})

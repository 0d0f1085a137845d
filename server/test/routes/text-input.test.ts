import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { DEMO_OPEN311_KEY } from '../../src/repos/open311-keys.ts'
import { findUnstorableText } from '../../src/validation.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'

/**
 * Text PostgreSQL cannot store (U+0000, an unpaired surrogate) and the control and bidi-override characters the
 * product refuses (validation.ts UNSTORABLE) are a 400 naming the field on every route — never a 500 — and nothing is
 * written. The bodies are sent as raw JSON text so that `\u0000` and `\ud800` reach the server as JSON escapes.
 */
const HERE = { lon: 119.652, lat: 29.083 }
const BAD: Array<[string, string]> = [
  ['NUL', '\\u0000'],
  ['a lone high surrogate', '\\ud800'],
  ['a lone low surrogate', '\\udc00'],
  ['a C0 control (BEL)', '\\u0007'],
  ['the right-to-left override', '\\u202e'],
]

const json = (template: string, bad: string) => template.replaceAll('@', bad)

async function counts(db: Db) {
  const { rows } = await db.query<{ cases: number; regions: number; keys: number; events: number }>(
    `SELECT (SELECT count(*) FROM cases)::int AS cases, (SELECT count(*) FROM regions)::int AS regions,
            (SELECT count(*) FROM open311_api_keys)::int AS keys, (SELECT count(*) FROM events)::int AS events`,
  )
  return rows[0]
}

describe('findUnstorableText', () => {
  it('finds NUL, lone surrogates, C0/C1 controls and bidi overrides, with the JSON pointer of the value', () => {
    expect(findUnstorableText({ a: 'x\u0000' })).toMatchObject({ instancePath: '/a' })
    expect(findUnstorableText({ a: ['ok', '\ud800x'] })?.instancePath).toBe('/a/1')
    expect(findUnstorableText({ a: 'x\udfff' })?.message).toMatch(/surrogate/)
    expect(findUnstorableText({ a: { 'b/c': 'x\u009b' } })?.instancePath).toBe('/a/b~1c')
    expect(findUnstorableText({ 'k\u202e': 1 })?.message).toMatch(/property name .*U\+202E/)
    expect(findUnstorableText({ a: 'x\u2066y' })?.message).toMatch(/bidirectional/)
  })

  it('takes what people write: emoji (paired surrogates), tabs and newlines, CJK, the direction marks', () => {
    expect(findUnstorableText({ a: '路灯不亮 😀\n第二行\t制表\r\n', b: ['عربى\u200f', 'x\u200ey'], c: 1, d: null })).toBeNull()
  })
})

describe.each(DB_MODES)('text a database cannot store (%s)', (mode) => {
  let app: AppInstance
  let db: Db
  let adminToken: string

  beforeAll(async () => {
    db = await testDb(mode)
    app = await buildApp({ db })
    await app.ready()
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'gridcommand-demo' } })
    adminToken = res.json().accessToken
  })
  afterAll(() => app.close())

  const routes: Array<{ name: string; url: string; field: string; body: string; headers?: () => Record<string, string> }> = [
    {
      name: 'POST /api/cases description',
      url: '/api/cases',
      field: 'description',
      body: `{"category":"sanitation.garbage","description":"满溢@","lon":${HERE.lon},"lat":${HERE.lat}}`,
    },
    {
      name: 'POST /api/cases address',
      url: '/api/cases',
      field: 'address',
      body: `{"category":"sanitation.garbage","description":"满溢","address":"中山路@1号","lon":${HERE.lon},"lat":${HERE.lat}}`,
    },
    {
      name: 'POST /open311/v2/requests.json description',
      url: '/open311/v2/requests.json',
      field: 'description',
      body: `{"api_key":"${DEMO_OPEN311_KEY}","service_code":"sanitation.garbage","description":"x@","long":${HERE.lon},"lat":${HERE.lat}}`,
    },
    {
      name: 'POST /open311/v2/requests.json address_string',
      url: '/open311/v2/requests.json',
      field: 'address_string',
      body: `{"api_key":"${DEMO_OPEN311_KEY}","service_code":"sanitation.garbage","description":"x","address_string":"@","long":${HERE.lon},"lat":${HERE.lat}}`,
    },
    {
      name: 'POST /api/regions/import name',
      url: '/api/regions/import?dryRun=true',
      field: 'features.0.properties.name',
      headers: () => ({ authorization: `Bearer ${adminToken}` }),
      body: `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"999901","name":"新区@","level":1},
              "geometry":{"type":"Polygon","coordinates":[[[120,29],[120.01,29],[120.01,29.01],[120,29]]]}}]}`,
    },
    {
      name: 'POST /api/auth/login username',
      url: '/api/auth/login',
      field: 'username',
      body: `{"username":"admin@","password":"gridcommand-demo"}`,
    },
    {
      name: 'POST /api/open311/keys appName',
      url: '/api/open311/keys',
      field: 'appName',
      headers: () => ({ authorization: `Bearer ${adminToken}` }),
      body: `{"appName":"app@"}`,
    },
  ]

  for (const r of routes) {
    it.each(BAD)(`${r.name}: %s → 400 naming the field, nothing written`, async (_what, bad) => {
      const before = await counts(db)
      const res = await app.inject({
        method: 'POST',
        url: r.url,
        headers: { 'content-type': 'application/json', ...r.headers?.() },
        payload: json(r.body, bad),
      })
      expect(res.statusCode, res.body).toBe(400)
      const body = res.json()
      if (r.url.startsWith('/open311')) {
        // GeoReport v2's error array: the sentence names the field.
        expect(body[0].code).toBe(400)
        expect(body[0].description).toContain(r.field)
      } else {
        expect(body.field).toBe(r.field)
        expect(body.message).toContain(`body.${r.field} must not contain U+`)
      }
      expect(await counts(db)).toEqual(before)
    })
  }

  it('the same characters in a query string: 400 naming the parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/cases?category=sanitation%00garbage', headers: { authorization: `Bearer ${adminToken}` } })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'category' })
  })

  it('a body that passes — emoji, newlines, an RLM — is stored exactly as sent', async () => {
    const description = '井盖缺失 ⚠️😀\n在\t路口\u200f'
    const res = await app.inject({ method: 'POST', url: '/api/cases', headers: { 'x-actor': 'text-test' }, payload: { category: 'sanitation.garbage', description, ...HERE } })
    expect(res.statusCode, res.body).toBe(201)
    const { rows } = await db.query<{ description: string }>('SELECT description FROM cases WHERE id = $1', [res.json().id])
    expect(rows[0].description).toBe(description)
  })

  it('every route that takes a body declares a body schema (so the check above reaches it)', () => {
    const withoutSchema = [
      // 404/405 answers that never read the body: an unknown case action, anything else under /open311.
      'PATCH /open311/*',
      'POST /api/cases/:id/actions/:action',
      // Multipart images, re-encoded by sharp: no text of theirs is kept.
      'POST /api/photos',
      'POST /open311/*',
      'PUT /open311/*',
    ]
    const missing = app.registeredRoutes
      .filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && !r.bodySchema)
      .map((r) => `${r.method} ${r.url}`)
    expect(missing.sort()).toEqual(withoutSchema)
  })
})

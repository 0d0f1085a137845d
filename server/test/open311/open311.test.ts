import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db } from '../../src/db/types.ts'
import { DEMO_OPEN311_KEY, hashOpen311Key, revokeOpen311Key } from '../../src/repos/open311-keys.ts'
import { bearer, signIn } from '../auth/support.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import * as img from '../fixtures/images.ts'

/**
 * Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2). Every response is checked against the spec's field
 * list below — exactly those fields, of those types, plus extensions prefixed x_.
 */

// ---- the spec's field lists ---------------------------------------------------------------------------------------

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object' | 'w3' | 'url'
interface Field {
  kinds: Kind[]
  /** The spec says "May not be returned" (we always return it; absent would still conform). */
  optional?: boolean
  values?: readonly unknown[]
}
type Spec = Record<string, Field>
const f = (kinds: Kind[], extra: Omit<Field, 'kinds'> = {}): Field => ({ kinds, ...extra })

const SPEC = {
  discovery: { changeset: f(['string']), contact: f(['string']), key_service: f(['string']), endpoints: f(['array']) },
  endpoint: {
    specification: f(['string']),
    url: f(['url']),
    changeset: f(['string']),
    type: f(['string'], { values: ['production', 'test'] }),
    formats: f(['array']),
  },
  service: {
    service_code: f(['string']),
    service_name: f(['string']),
    description: f(['string']),
    metadata: f(['boolean']),
    type: f(['string'], { values: ['realtime', 'batch', 'blackbox'] }),
    keywords: f(['string']),
    group: f(['string']),
  },
  serviceDefinition: { service_code: f(['string']), attributes: f(['array']) },
  /** POST response: service_request_id, never token with it (the spec: one or the other). */
  created: {
    service_request_id: f(['string']),
    service_notice: f(['string', 'null'], { optional: true }),
    account_id: f(['string', 'null'], { optional: true }),
  },
  token: { service_request_id: f(['string']), token: f(['string']) },
  request: {
    service_request_id: f(['string']),
    status: f(['string'], { values: ['open', 'closed'] }),
    status_notes: f(['string', 'null'], { optional: true }),
    service_name: f(['string', 'null']),
    service_code: f(['string']),
    description: f(['string', 'null']),
    agency_responsible: f(['string', 'null'], { optional: true }),
    service_notice: f(['string', 'null'], { optional: true }),
    requested_datetime: f(['w3']),
    updated_datetime: f(['w3', 'null']),
    expected_datetime: f(['w3', 'null'], { optional: true }),
    address: f(['string', 'null']),
    address_id: f(['string', 'null']),
    zipcode: f(['string', 'null']),
    lat: f(['number']),
    long: f(['number']),
    media_url: f(['url', 'null']),
  },
  error: { code: f(['integer']), description: f(['string']) },
} satisfies Record<string, Spec>

const W3_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

function kindOk(v: unknown, k: Kind): boolean {
  switch (k) {
    case 'null':
      return v === null
    case 'array':
      return Array.isArray(v)
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v)
    case 'integer':
      return Number.isInteger(v)
    case 'number':
      return typeof v === 'number' && Number.isFinite(v)
    case 'w3':
      return typeof v === 'string' && W3_RE.test(v) && Number.isFinite(Date.parse(v))
    case 'url':
      return typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v)
    default:
      return typeof v === k
  }
}

/** Problems of `obj` against a spec field list: missing or mistyped fields, and fields that are neither spec nor x_. */
function problems(obj: unknown, spec: Spec, where = 'object'): string[] {
  if (!kindOk(obj, 'object')) return [`${where} is not an object`]
  const o = obj as Record<string, unknown>
  const out: string[] = []
  for (const [name, field] of Object.entries(spec)) {
    if (!(name in o)) {
      if (!field.optional) out.push(`${where}.${name} is missing`)
      continue
    }
    if (!field.kinds.some((k) => kindOk(o[name], k))) out.push(`${where}.${name} = ${JSON.stringify(o[name])} is not ${field.kinds.join(' | ')}`)
    else if (field.values && o[name] !== null && !field.values.includes(o[name])) out.push(`${where}.${name} = ${JSON.stringify(o[name])} is not one of ${field.values.join(', ')}`)
  }
  for (const name of Object.keys(o)) if (!(name in spec) && !name.startsWith('x_')) out.push(`${where}.${name} is not a spec field`)
  return out
}

/** Every element of the array conforms; returns the array. */
function expectArrayOf(body: unknown, spec: Spec, what: string): any[] {
  expect(Array.isArray(body), `${what} is an array: ${JSON.stringify(body)?.slice(0, 300)}`).toBe(true)
  const list = body as unknown[]
  expect(list.flatMap((x, i) => problems(x, spec, `${what}[${i}]`))).toEqual([])
  return list as any[]
}

/** A GeoReport v2 error array with the HTTP status as code; returns the descriptions joined. */
function expectErrors(res: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number): string {
  expect(res.statusCode, res.body).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
  const list = expectArrayOf(JSON.parse(res.body), SPEC.error, 'errors')
  expect(list.length).toBeGreaterThan(0)
  for (const e of list) expect(e.code).toBe(status)
  return list.map((e) => e.description).join(' | ')
}

// ---- set-up ---------------------------------------------------------------------------------------------------------

/** Inside a grid of 婺城区 (the demo region), and far outside every grid (Beijing). */
const HERE = { lat: 29.083, long: 119.652 }
const OUTSIDE = { lat: 39.9042, long: 116.4074 }
const at = (iso: string) => new Date(iso)
const ROOT = '/open311/v2'

interface Harness {
  app: AppInstance
  db: Db
  clock: { now: Date }
}

const form = (fields: Record<string, string | number>) =>
  new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString()

/** The demo app's api_key (seeded with the demo users; README "Demo users"): POST requires a key (issue #6). */
const KEY = DEMO_OPEN311_KEY

/** POSTs the form; the demo api_key goes with it unless the fields name their own api_key. */
async function postForm(h: Harness, fields: Record<string, string | number> | string, headers: Record<string, string> = {}, url = `${ROOT}/requests.json`) {
  const payload = typeof fields === 'string' ? (/(^|&)api_key=/.test(fields) ? fields : `${fields}&api_key=${KEY}`) : form({ api_key: KEY, ...fields })
  return h.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    payload,
  })
}

/** POSTs JSON; the demo api_key is added to a plain object that names none. */
async function postJson(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  const payload = body && typeof body === 'object' && !Array.isArray(body) && !('api_key' in body) ? { api_key: KEY, ...body } : body
  return h.app.inject({ method: 'POST', url: `${ROOT}/requests.json`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) })
}

/** POSTs a valid request (form-encoded) and returns the created entry. */
async function create(h: Harness, fields: Record<string, string | number> = {}) {
  const res = await postForm(h, { service_code: 'public_facilities.street_light', description: '路灯不亮', ...HERE, ...fields })
  expect(res.statusCode, res.body).toBe(201)
  return expectArrayOf(res.json(), SPEC.created, 'created')[0]
}

async function getRequest(h: Harness, id: string, query = '') {
  const res = await h.app.inject(`${ROOT}/requests/${id}.json${query}`)
  expect(res.statusCode, res.body).toBe(200)
  const list = expectArrayOf(res.json(), SPEC.request, 'requests')
  expect(list).toHaveLength(1)
  return list[0]
}

async function listRequests(h: Harness, query: string) {
  const res = await h.app.inject(`${ROOT}/requests.json${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return expectArrayOf(res.json(), SPEC.request, 'requests')
}

async function countOpen311Cases(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE source = 'open311'`)
  return rows[0].n
}

async function act(h: Harness, id: string, action: string, body: Record<string, unknown>, version: number) {
  const res = await h.app.inject({
    method: 'POST',
    url: `/api/cases/${id}/actions/${action}`,
    headers: { 'x-actor': 'staff-311', 'if-match': `"${version}"` },
    payload: body,
  })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

// The clock stays in 2023–2024: the database is shared, and other suites expect their wall-clock cases to be the
// newest; cases this old sit in no window theirs look at.
describe.each(DB_MODES)('Open311 GeoReport v2 (%s)', (mode) => {
  const h = { clock: { now: at('2024-03-10T12:00:00+08:00') } } as Harness
  let uploadsDir: string

  beforeAll(async () => {
    h.db = await testDb(mode)
    uploadsDir = mkdtempSync(join(tmpdir(), 'gc-test-open311-'))
    h.app = await buildApp({ db: h.db, now: () => h.clock.now, uploadsDir })
    await h.app.ready()
  })
  afterAll(async () => {
    await h.app.close()
    rmSync(uploadsDir, { recursive: true, force: true })
  })

  it('serves the discovery document', async () => {
    const res = await h.app.inject({ url: `${ROOT}/discovery.json`, headers: { host: 'city.example:8080' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    const d = res.json()
    expect(problems(d, SPEC.discovery, 'discovery')).toEqual([])
    expect(d.endpoints).toHaveLength(1)
    expect(problems(d.endpoints[0], SPEC.endpoint, 'endpoint')).toEqual([])
    expect(d.endpoints[0]).toEqual({
      specification: 'http://wiki.open311.org/GeoReport_v2',
      url: 'http://city.example:8080/open311/v2',
      changeset: d.changeset,
      type: 'production',
      formats: ['application/json'],
    })
  })

  it('lists every active category as a realtime service without metadata, in Chinese or (?locale=en) English', async () => {
    const zh = expectArrayOf((await h.app.inject(`${ROOT}/services.json`)).json(), SPEC.service, 'services')
    const { rows } = await h.db.query<{ code: string }>('SELECT code FROM categories WHERE active ORDER BY sort, code')
    expect(zh.map((s) => s.service_code)).toEqual(rows.map((r) => r.code))
    for (const s of zh) expect(s).toMatchObject({ metadata: false, type: 'realtime' })
    const light = zh.find((s) => s.service_code === 'public_facilities.street_light')
    expect(light).toMatchObject({ service_name: '路灯', group: '公共设施' })
    expect(light.keywords.split(', ')).toEqual(expect.arrayContaining(['路灯', 'Street lights', '公共设施']))
    expect(light.description).toContain('市政园林局')
    expect(zh.find((s) => s.service_code === 'public_security')).toMatchObject({ service_name: '治安', group: '治安' })

    const en = expectArrayOf((await h.app.inject(`${ROOT}/services.json?locale=en`)).json(), SPEC.service, 'services')
    expect(en.find((s) => s.service_code === 'public_facilities.street_light')).toMatchObject({ service_name: 'Street lights', group: 'Public facilities' })
    expect(en.find((s) => s.service_code === 'public_facilities.street_light').description).toContain('Municipal Works & Gardens')

    expect(expectErrors(await h.app.inject(`${ROOT}/services.json?locale=fr`), 400)).toContain('locale')
  })

  it('answers a service definition with no attributes; unknown codes are 404', async () => {
    const res = await h.app.inject(`${ROOT}/services/public_facilities.street_light.json`)
    expect(res.statusCode).toBe(200)
    const def = res.json()
    expect(problems(def, SPEC.serviceDefinition, 'definition')).toEqual([])
    expect(def).toEqual({ service_code: 'public_facilities.street_light', attributes: [] })
    expect(expectErrors(await h.app.inject(`${ROOT}/services/aliens.json`), 404)).toContain('aliens')
    expect(expectErrors(await h.app.inject(`${ROOT}/services/public_security.xml`), 400)).toMatch(/JSON only/)
  })

  it('takes a form-encoded request (the spec) and shows it in requests.json, requests/{id}.json and /api/cases', async () => {
    h.clock.now = at('2024-01-05T10:00:00+08:00')
    const before = await countOpen311Cases(h.db)
    const res = await postForm(h, {
      api_key: KEY,
      jurisdiction_id: 'gridcommand.example',
      service_code: 'public_facilities.street_light',
      lat: HERE.lat,
      long: HERE.long,
      address_string: '婺城区 人民路 12号 & 解放路口',
      description: '路灯不亮\n已经三天了 (100% 黑)',
      email: 'resident@example.org',
      first_name: '小明',
      last_name: '王',
      phone: '+86 138-0000-0000',
      device_id: 'dev-42',
      media_url: 'https://photos.example.org/p/1.jpg?size=l&x=1',
    })
    expect(res.statusCode, res.body).toBe(201)
    const [created] = expectArrayOf(res.json(), SPEC.created, 'created')
    expect(created.service_request_id).toMatch(/^GC\d{14,}$/)
    expect(created.account_id).toBeNull()
    expect(created.service_notice).toContain('市政园林局')
    expect(res.headers.location).toBe(`${ROOT}/requests/${created.service_request_id}.json`)
    expect(await countOpen311Cases(h.db)).toBe(before + 1)

    const byCode = await getRequest(h, created.service_request_id)
    expect(byCode).toMatchObject({
      service_request_id: created.service_request_id,
      status: 'open',
      status_notes: null,
      service_name: '路灯',
      service_code: 'public_facilities.street_light',
      description: '路灯不亮\n已经三天了 (100% 黑)',
      agency_responsible: '市政园林局',
      requested_datetime: h.clock.now.toISOString(),
      updated_datetime: h.clock.now.toISOString(),
      address: '婺城区 人民路 12号 & 解放路口',
      address_id: null,
      zipcode: null,
      lat: HERE.lat,
      long: HERE.long,
      media_url: 'https://photos.example.org/p/1.jpg?size=l&x=1',
      x_gridcommand_status: 'reported',
      x_gridcommand_source: 'open311',
      x_gridcommand_owning_level: 4,
      x_gridcommand_overdue: false,
      x_gridcommand_department: 'municipal_gardens',
      x_gridcommand_merged_into: null,
    })
    expect(byCode.expected_datetime).not.toBeNull()
    expect(byCode.service_notice).toContain('市政园林局')
    const uuid = byCode.x_gridcommand_id
    expect(await getRequest(h, uuid)).toEqual(byCode)
    expect((await getRequest(h, created.service_request_id.toLowerCase())).service_request_id).toBe(created.service_request_id)
    expect((await getRequest(h, created.service_request_id, '?locale=en')).agency_responsible).toBe('Municipal Works & Gardens')

    const listed = await listRequests(h, `?service_request_id=${created.service_request_id}`)
    expect(listed).toEqual([byCode])

    // Our own API: a case like any other, source open311; contact details and media_url kept for staff.
    const detail = (await h.app.inject(`/api/cases/${uuid}`)).json()
    expect(detail).toMatchObject({
      id: uuid,
      code: created.service_request_id,
      source: 'open311',
      status: 'reported',
      category: 'public_facilities.street_light',
      description: '路灯不亮\n已经三天了 (100% 黑)',
      address: '婺城区 人民路 12号 & 解放路口',
      lat: HERE.lat,
      lon: HERE.long,
      reporter: null,
    })
    const intake = detail.timeline.find((e: any) => e.actor === 'open311' && e.action === 'note')
    expect(intake.note).toContain('https://photos.example.org/p/1.jpg?size=l&x=1')
    expect(intake.data.open311).toEqual({
      email: 'resident@example.org',
      first_name: '小明',
      last_name: '王',
      phone: '+86 138-0000-0000',
      device_id: 'dev-42',
      media_url: 'https://photos.example.org/p/1.jpg?size=l&x=1',
    })
    expect(JSON.stringify(detail)).not.toContain(KEY) // the api_key is not stored

    // The token (the case uuid) leads to the id, though nobody needs it: requests are realtime.
    const tok = await h.app.inject(`${ROOT}/tokens/${uuid}.json`)
    expect(tok.statusCode).toBe(200)
    expect(expectArrayOf(tok.json(), SPEC.token, 'tokens')).toEqual([{ service_request_id: created.service_request_id, token: uuid }])
    expectErrors(await h.app.inject(`${ROOT}/tokens/${created.service_request_id}.json`), 404)
  })

  it('takes JSON too; without a description the service name stands in', async () => {
    h.clock.now = at('2024-01-06T10:00:00+08:00')
    const res = await h.app.inject({
      method: 'POST',
      url: `${ROOT}/requests.json?locale=en`,
      headers: { 'content-type': 'application/json', 'x-actor': 'resident-311' },
      payload: JSON.stringify({ api_key: KEY, service_code: 'sanitation.garbage', lat: HERE.lat, long: HERE.long, description: '' }),
    })
    expect(res.statusCode, res.body).toBe(201)
    const [created] = expectArrayOf(res.json(), SPEC.created, 'created')
    expect(created.service_notice).toMatch(/^Sanitation Office is in charge; expected to be handled by 2024-/)
    const r = await getRequest(h, created.service_request_id)
    expect(r).toMatchObject({ service_code: 'sanitation.garbage', description: '垃圾清运', agency_responsible: '环境卫生管理处' })
    // No address_string: the region chain, most specific first, describes the place.
    expect(r.address).toMatch(/婺城区$/)
    const detail = (await h.app.inject(`/api/cases/${r.x_gridcommand_id}`)).json()
    expect(detail).toMatchObject({ source: 'open311', reporter: 'resident-311' })
    expect(detail.timeline.map((e: any) => e.action)).toEqual(['report']) // nothing extra to keep
  })

  it('honours Idempotency-Key: a retry gets the same service_request_id, another body with the key is refused', async () => {
    h.clock.now = at('2024-01-07T10:00:00+08:00')
    const fields = { service_code: 'dispute.neighbour', lat: HERE.lat, long: HERE.long, description: '楼上噪音', device_id: 'phone-7' }
    const first = await postForm(h, fields, { 'idempotency-key': 'retry-311-a' })
    expect(first.statusCode, first.body).toBe(201)
    const before = await countOpen311Cases(h.db)
    const again = await postForm(h, fields, { 'idempotency-key': 'retry-311-a' })
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(await countOpen311Cases(h.db)).toBe(before)
    expect(await listRequests(h, `?service_request_id=${first.json()[0].service_request_id}`)).toHaveLength(1)

    expect(expectErrors(await postForm(h, { ...fields, description: '别的事' }, { 'idempotency-key': 'retry-311-a' }), 400)).toContain('Idempotency-Key')
    // The key is the client's: another device may use the same key for its own request.
    const other = await postForm(h, { ...fields, device_id: 'phone-8' }, { 'idempotency-key': 'retry-311-a' })
    expect(other.statusCode).toBe(201)
    expect(other.json()[0].service_request_id).not.toBe(first.json()[0].service_request_id)
    expect(expectErrors(await postForm(h, fields, { 'idempotency-key': '' }), 400)).toContain('Idempotency-Key')
  })

  it('refuses bad requests with the spec error array, naming the field, and creates nothing', async () => {
    h.clock.now = at('2024-01-08T10:00:00+08:00')
    const ok = { service_code: 'public_facilities.street_light', description: '路灯不亮', ...HERE }
    const { lat: _lat, ...noLat } = ok
    const { lat: _lat2, long: _long, ...noPosition } = ok
    const { service_code: _code, ...noCode } = ok
    const before = await countOpen311Cases(h.db)
    const cases: Array<[string, () => Promise<any>, number, string | RegExp]> = [
      ['missing lat', () => postForm(h, noLat), 400, 'lat is missing'],
      ['no position at all', () => postForm(h, noPosition), 400, 'lat and long are required'],
      ['address_string alone', () => postForm(h, { ...noPosition, address_string: '人民路12号' }), 400, 'address_string'],
      ['lat not a number', () => postForm(h, { ...ok, lat: '29.08abc' }), 400, 'lat must be'],
      ['lat out of range', () => postForm(h, { ...ok, lat: 91 }), 400, 'lat must be'],
      ['long out of range (JSON)', () => postJson(h, { ...ok, long: -181 }), 400, 'long must be'],
      ['lat as a JSON boolean', () => postJson(h, { ...ok, lat: true }), 400, 'lat must be a string or a number'],
      ['description too long', () => postForm(h, { ...ok, description: '长'.repeat(2001) }), 400, 'description must be at most 2000'],
      ['service_code missing', () => postForm(h, noCode), 400, 'service_code is required'],
      ['service_code unknown', () => postForm(h, { ...ok, service_code: 'aliens' }), 404, 'service_code "aliens" was not found'],
      ['unknown field', () => postForm(h, { ...ok, colour: 'red' }), 400, 'colour is not a GeoReport v2 field'],
      ['attributes', () => postForm(h, { ...ok, 'attribute[WHISPAWN]': '1' }), 400, 'attribute'],
      ['a field twice', () => postForm(h, `${form(ok)}&lat=30`), 400, 'lat was sent more than once'],
      ['bad email', () => postForm(h, { ...ok, email: 'not-an-email' }), 400, 'email'],
      ['media_url not http', () => postForm(h, { ...ok, media_url: 'javascript:alert(1)' }), 400, 'media_url'],
      ['outside every grid', () => postForm(h, { ...ok, ...OUTSIDE }), 400, 'outside every grid'],
      ['not JSON', () => h.app.inject({ method: 'POST', url: `${ROOT}/requests.json`, headers: { 'content-type': 'application/json' }, payload: '{"lat":' }), 400, 'not valid JSON'],
      ['JSON array', () => postJson(h, [ok]), 400, 'JSON object'],
      ['text/plain', () => h.app.inject({ method: 'POST', url: `${ROOT}/requests.json`, headers: { 'content-type': 'text/plain' }, payload: 'hi' }), 415, 'x-www-form-urlencoded'],
      ['not UTF-8', () => postForm(h, ok, { 'content-type': 'application/x-www-form-urlencoded; charset=gbk' }), 415, 'UTF-8'],
      ['POST .xml', () => postForm(h, ok, {}, `${ROOT}/requests.xml`), 400, /JSON only/],
      ['bad X-Actor', () => postForm(h, ok, { 'x-actor': 'two words' }), 400, 'X-Actor'],
      ['several problems at once', () => postForm(h, { ...noCode, lat: 'x', email: 'y' }), 400, /^(?=.*lat must be)(?=.*email must be)(?=.*service_code is required)/],
    ]
    for (const [what, call, status, expected] of cases) {
      const res = await call()
      const description = expectErrors(res, status)
      if (typeof expected === 'string') expect(description, what).toContain(expected)
      else expect(description, what).toMatch(expected)
    }
    expect(await countOpen311Cases(h.db)).toBe(before)
    // Every problem of a request is its own entry of the array.
    expect((await postForm(h, { ...noCode, lat: 'x', email: 'y' })).json()).toHaveLength(3)
  })

  it('POST requires an api_key (issue #6): missing → 400 naming it, unknown → 403; nothing is written on refusal', async () => {
    h.clock.now = at('2024-01-09T10:00:00+08:00')
    const ok = { service_code: 'public_facilities.street_light', description: '路灯不亮', ...HERE }
    const url = `${ROOT}/requests.json`
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }
    const count = async (sql: string) => (await h.db.query<{ n: number }>(sql)).rows[0].n
    const written = async () => ({
      cases: await countOpen311Cases(h.db),
      idempotency: await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE 'keyless-%'`),
      keys: await count('SELECT count(*)::int AS n FROM open311_api_keys'),
    })
    const before = await written()

    const noKey = await h.app.inject({ method: 'POST', url, headers: { ...formHeaders, 'idempotency-key': 'keyless-1' }, payload: form(ok) })
    expect(expectErrors(noKey, 400)).toContain('api_key is required')
    expect(noKey.json()).toHaveLength(1)
    const noKeyJson = await h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(ok) })
    expect(expectErrors(noKeyJson, 400)).toContain('api_key is required')
    expect(expectErrors(await postForm(h, { ...ok, api_key: '' }), 400)).toContain('api_key is required') // empty = not sent
    // With other problems, the missing key is one entry of the array among them.
    const several = await h.app.inject({ method: 'POST', url, headers: formHeaders, payload: form({ description: 'x' }) })
    expect(expectErrors(several, 400)).toMatch(/^(?=.*api_key is required)(?=.*lat and long are required)(?=.*service_code is required)/)
    expect(several.json()).toHaveLength(3)

    const unknown: Array<[string, () => Promise<any>]> = [
      ['form', () => postForm(h, { ...ok, api_key: 'o311_not-a-key-issued-here' }, { 'idempotency-key': 'keyless-2' })],
      ['JSON', () => postJson(h, { ...ok, api_key: 'nope' })],
      ['query string', () => h.app.inject({ method: 'POST', url: `${url}?api_key=nope`, headers: formHeaders, payload: form(ok) })],
      ['the key\'s hash sent as the key', () => postForm(h, { ...ok, api_key: hashOpen311Key(KEY) })],
    ]
    for (const [what, call] of unknown) expect(expectErrors(await call(), 403), what).toContain('api_key')
    // A valid key in the query does not rescue another one in the body.
    const mixed = await h.app.inject({ method: 'POST', url: `${url}?api_key=${KEY}`, headers: formHeaders, payload: form({ ...ok, api_key: 'nope' }) })
    expect(expectErrors(mixed, 400)).toContain('api_key')
    expect(expectErrors(await postForm(h, { ...ok, api_key: 'k'.repeat(256) }), 400)).toContain('api_key must be at most 255')

    expect(await written()).toEqual(before)
  })

  it('an admin issues api_keys (POST /api/open311/keys); an issued key works until it is revoked (then 403)', async () => {
    h.clock.now = at('2024-01-10T10:00:00+08:00')
    const issue = (headers: Record<string, string>, payload: unknown = { appName: '城市服务 App' }) =>
      h.app.inject({ method: 'POST', url: '/api/open311/keys', headers, payload: payload as Record<string, unknown> })
    const keysBefore = (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM open311_api_keys')).rows[0].n

    // Anonymous (AUTH_MODE=dev-header: no token, so no user — naming oneself admin in X-Actor is not being one) → 401.
    expect((await issue({})).statusCode).toBe(401)
    expect((await issue({ 'x-actor': 'admin' })).statusCode).toBe(401)
    for (const who of ['resident-zhang', 'dispatcher-wucheng', 'commander']) {
      const res = await issue(bearer((await signIn(h.app, who)).accessToken))
      expect(res.statusCode, who).toBe(403)
      expect(res.json().error).toBe('forbidden')
    }
    expect((await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM open311_api_keys')).rows[0].n).toBe(keysBefore)

    const admin = bearer((await signIn(h.app, 'admin')).accessToken)
    expect((await issue(admin, {})).statusCode).toBe(400)
    expect((await issue(admin, { appName: '' })).statusCode).toBe(400)
    const res = await issue(admin)
    expect(res.statusCode, res.body).toBe(201)
    const { apiKey, appName } = res.json()
    expect(appName).toBe('城市服务 App')
    expect(apiKey).toMatch(/^o311_[A-Za-z0-9_-]{43}$/)
    // Only the SHA-256 is stored.
    const { rows } = await h.db.query<{ key_hash: string; app_name: string; last_used_at: Date | null }>(
      'SELECT key_hash, app_name, last_used_at FROM open311_api_keys WHERE key_hash = $1',
      [hashOpen311Key(apiKey)],
    )
    expect(rows).toEqual([{ key_hash: hashOpen311Key(apiKey), app_name: '城市服务 App', last_used_at: null }])
    const { rows: plain } = await h.db.query(`SELECT 1 FROM open311_api_keys WHERE key_hash = $1 OR app_name = $1`, [apiKey])
    expect(plain).toHaveLength(0)

    const ok = { service_code: 'sanitation.garbage', description: '垃圾满了', ...HERE }
    const before = await countOpen311Cases(h.db)
    const inBody = await postForm(h, { ...ok, api_key: apiKey })
    expect(inBody.statusCode, inBody.body).toBe(201)
    const inQuery = await h.app.inject({
      method: 'POST',
      url: `${ROOT}/requests.json?api_key=${encodeURIComponent(apiKey)}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(ok),
    })
    expect(inQuery.statusCode, inQuery.body).toBe(201)
    expect(await countOpen311Cases(h.db)).toBe(before + 2)
    const used = await h.db.query<{ last_used_at: Date }>('SELECT last_used_at FROM open311_api_keys WHERE key_hash = $1', [hashOpen311Key(apiKey)])
    expect(new Date(used.rows[0].last_used_at).toISOString()).toBe(h.clock.now.toISOString())

    expect(await revokeOpen311Key(h.db, apiKey, h.clock.now)).toBe(true)
    expect(expectErrors(await postForm(h, { ...ok, api_key: apiKey }), 403)).toContain('api_key is revoked')
    expect(expectErrors(await postForm(h, { ...ok, api_key: apiKey }, { 'idempotency-key': 'revoked-1' }), 403)).toContain('revoked')
    expect(await countOpen311Cases(h.db)).toBe(before + 2)
    const { rows: idem } = await h.db.query(`SELECT 1 FROM idempotency_keys WHERE key = 'revoked-1'`)
    expect(idem).toHaveLength(0)
    // The demo key still works.
    expect((await postForm(h, ok)).statusCode).toBe(201)
  })

  it('answers unknown ids, formats, methods and paths with the error array', async () => {
    const cases: Array<[string, string, string, number, string | RegExp]> = [
      ['unknown case code', 'GET', `${ROOT}/requests/GC20240101999999.json`, 404, 'GC20240101999999'],
      ['unknown uuid', 'GET', `${ROOT}/requests/00000000-0000-4000-8000-000000000000.json`, 404, 'was not found'],
      ['not an id', 'GET', `${ROOT}/requests/nonsense.json`, 404, 'nonsense'],
      ['xml request', 'GET', `${ROOT}/requests/GC20240101000001.xml`, 400, /JSON only.*requests\/GC20240101000001\.json/],
      ['xml list', 'GET', `${ROOT}/requests.xml`, 400, /JSON only/],
      ['xml services', 'GET', `${ROOT}/services.xml`, 400, /JSON only/],
      ['xml discovery', 'GET', `${ROOT}/discovery.xml`, 400, /JSON only/],
      ['no format', 'GET', `${ROOT}/services`, 400, 'services.json'],
      ['no format on an id', 'GET', `${ROOT}/requests/GC20240101000001`, 400, 'requests/GC20240101000001.json'],
      ['wrong method', 'DELETE', `${ROOT}/requests.json`, 405, 'allowed: GET, POST, HEAD'],
      ['POST to one request', 'POST', `${ROOT}/requests/GC20240101000001.json`, 405, 'allowed: GET, HEAD'],
      ['nothing there', 'GET', `${ROOT}/nothing.json`, 404, 'discovery.json'],
      ['another version', 'GET', '/open311/v3/services.json', 404, 'not an Open311 resource'],
    ]
    for (const [what, method, url, status, expected] of cases) {
      const res = await h.app.inject({ method: method as 'GET', url })
      const description = expectErrors(res, status)
      if (typeof expected === 'string') expect(description, what).toContain(expected)
      else expect(description, what).toMatch(expected)
      if (status === 405) expect(res.headers.allow, what).toBeTruthy()
    }
    expect((await h.app.inject({ method: 'HEAD', url: `${ROOT}/services.json` })).statusCode).toBe(200)
    expect((await h.app.inject({ method: 'HEAD', url: `${ROOT}/services.xml` })).statusCode).toBe(400)
  })

  it('filters requests.json by status, service_code, dates and ids, within 90 days and 1000 requests by default', async () => {
    const report = async (iso: string, service_code: string, description: string) => {
      h.clock.now = at(iso)
      const c = await create(h, { service_code, description })
      return getRequest(h, c.service_request_id)
    }
    const old = await report('2023-10-01T09:00:00+08:00', 'public_facilities.street_light', 'old')
    const a = await report('2024-03-01T09:00:00+08:00', 'public_facilities.street_light', 'A')
    const b = await report('2024-03-05T09:00:00+08:00', 'city_appearance.street_vending', 'B')
    const c = await report('2024-03-08T09:00:00+08:00', 'public_facilities.street_light', 'C')
    const mine = new Set([old, a, b, c].map((r) => r.service_request_id))

    // B rejected (closed, with the reason as status_notes), C merged into A (closed, duplicate).
    h.clock.now = at('2024-03-09T09:00:00+08:00')
    await act(h, b.x_gridcommand_id, 'reject', { reason: '不属于受理范围' }, 1)
    await act(h, c.x_gridcommand_id, 'merge', { into: a.x_gridcommand_id }, 1)
    h.clock.now = at('2024-03-10T12:00:00+08:00')

    const ids = (list: any[]) => list.map((r) => r.service_request_id).filter((id) => mine.has(id))
    const all = await listRequests(h, '')
    expect(ids(all)).toEqual([c, b, a].map((r) => r.service_request_id)) // newest first, `old` is beyond 90 days
    expect(all.length).toBeLessThanOrEqual(1000)
    for (const r of all) expect(Date.parse(r.requested_datetime)).toBeGreaterThanOrEqual(h.clock.now.getTime() - 90 * 86_400_000)

    const rejected = all.find((r) => r.service_request_id === b.service_request_id)
    expect(rejected).toMatchObject({ status: 'closed', status_notes: '不属于受理范围', x_gridcommand_status: 'rejected', service_notice: null })
    expect(rejected.updated_datetime).toBe(at('2024-03-09T09:00:00+08:00').toISOString())
    const merged = all.find((r) => r.service_request_id === c.service_request_id)
    expect(merged).toMatchObject({ status: 'closed', status_notes: `重复问题，已并入 ${a.service_request_id}`, x_gridcommand_merged_into: a.service_request_id })
    expect(all.find((r) => r.service_request_id === a.service_request_id)).toMatchObject({ status: 'open', x_gridcommand_status: 'reported' })

    const open = await listRequests(h, '?status=open')
    expect(ids(open)).toEqual([a.service_request_id])
    expect(open.every((r) => r.status === 'open')).toBe(true)
    const closed = await listRequests(h, '?status=closed')
    expect(ids(closed)).toEqual([c.service_request_id, b.service_request_id])
    expect(closed.every((r) => r.status === 'closed')).toBe(true)
    expect(ids(await listRequests(h, '?status=open,closed'))).toEqual(ids(all))
    expect(ids(await listRequests(h, '?status=open&status=closed'))).toEqual(ids(all))

    const lights = await listRequests(h, '?service_code=public_facilities.street_light')
    expect(ids(lights)).toEqual([c.service_request_id, a.service_request_id])
    expect(lights.every((r) => r.service_code === 'public_facilities.street_light')).toBe(true)
    expect(ids(await listRequests(h, '?service_code=public_facilities.street_light,city_appearance.street_vending&status=closed'))).toEqual(
      [c, b].map((r) => r.service_request_id),
    )

    const window = await listRequests(h, `?start_date=${encodeURIComponent('2024-03-04T00:00:00+08:00')}&end_date=2024-03-05T01:00:00Z`)
    expect(ids(window)).toEqual([b.service_request_id])
    expect(ids(await listRequests(h, '?start_date=2024-03-05&end_date=2024-03-05'))).toEqual([b.service_request_id]) // whole local day
    expect(ids(await listRequests(h, '?start_date=2023-09-30T00:00:00Z'))).toEqual([old.service_request_id]) // 90 days from the start
    expect(ids(await listRequests(h, '?end_date=2024-03-01T01:00:00Z'))).toEqual([a.service_request_id]) // 90 days up to the end
    expect(ids(await listRequests(h, '?end_date=2023-12-01T00:00:00Z'))).toEqual([old.service_request_id])

    // Ids override every other argument, and take codes and uuids alike.
    const picked = await listRequests(h, `?service_request_id=${a.service_request_id},${b.x_gridcommand_id},GC20240101999999&status=open&service_code=dispute.labour`)
    expect(picked.map((r) => r.service_request_id)).toEqual([b.service_request_id, a.service_request_id])
    expect(ids(await listRequests(h, `?service_request_id=${old.service_request_id}`))).toEqual([old.service_request_id])

    const bad: Array<[string, string]> = [
      ['?start_date=yesterday', 'start_date'],
      ['?start_date=2024-02-30T00:00:00Z', 'start_date'],
      ['?end_date=2024-03-01T00:00:00', 'end_date'], // no time zone
      ['?start_date=2023-01-01T00:00:00Z&end_date=2024-01-01T00:00:00Z', '90 days'],
      ['?start_date=2024-03-02T00:00:00Z&end_date=2024-03-01T00:00:00Z', 'end_date must not be before start_date'],
      ['?status=pending', 'status'],
      ['?service_code=Not%20A%20Code', 'service_code'],
      ['?service_request_id=@@', 'service_request_id'],
      ['?start_date=2024-01-01T00:00:00Z&start_date=2024-01-02T00:00:00Z', 'start_date'],
    ]
    for (const [query, field] of bad) expect(expectErrors(await h.app.inject(`${ROOT}/requests.json${query}`), 400), query).toContain(field)
  })

  it('gives the first photo as an absolute media_url', async () => {
    h.clock.now = at('2024-02-01T10:00:00+08:00')
    const up = await h.app.inject({ method: 'POST', url: '/api/photos', ...img.multipart([{ name: 'photos', filename: 'a.jpg', type: 'image/jpeg', data: await img.jpeg() }]) })
    expect(up.statusCode, up.body).toBe(201)
    const photoId = up.json().photos[0].id
    const made = await h.app.inject({
      method: 'POST',
      url: '/api/cases',
      payload: { category: 'sanitation.garbage', description: '垃圾满了', lon: HERE.long, lat: HERE.lat, photos: [photoId] },
    })
    expect(made.statusCode, made.body).toBe(201)
    const res = await h.app.inject({ url: `${ROOT}/requests/${made.json().code}.json`, headers: { host: 'gc.example', 'x-forwarded-proto': 'https' } })
    const [r] = expectArrayOf(res.json(), SPEC.request, 'requests')
    expect(r).toMatchObject({ media_url: `https://gc.example/api/photos/${photoId}`, x_gridcommand_source: 'resident' })
    const image = await h.app.inject(new URL(r.media_url).pathname)
    expect(image.statusCode).toBe(200)
    expect(image.headers['content-type']).toBe('image/jpeg')
  })

  it('works for a real HTTP client: curl --data-urlencode', async () => {
    const curl = promisify(execFile)
    try {
      await curl('curl', ['--version'])
    } catch {
      return // no curl on this machine: the inject tests above cover the same paths
    }
    const { app, url } = await startServer({ db: h.db, now: () => h.clock.now, uploadsDir })
    try {
      h.clock.now = at('2024-02-02T10:00:00+08:00')
      const post = await curl('curl', [
        '-sS', '-w', '\n%{http_code}', `${url}${ROOT}/requests.json`,
        '--data-urlencode', `api_key=${KEY}`,
        '--data-urlencode', 'service_code=safety_hazard.gas',
        '--data-urlencode', `lat=${HERE.lat}`,
        '--data-urlencode', `long=${HERE.long}`,
        '--data-urlencode', 'description=闻到煤气味 & 有人晕倒? 50%+',
        '--data-urlencode', 'email=a+b@example.org',
        '-H', 'Idempotency-Key: curl-311-1',
      ])
      const [body, status] = post.stdout.split('\n')
      expect(status).toBe('201')
      const [created] = expectArrayOf(JSON.parse(body), SPEC.created, 'created')
      const get = await curl('curl', ['-sS', '-w', '\n%{http_code}', `${url}${ROOT}/requests/${created.service_request_id}.json`])
      const [got, getStatus] = get.stdout.split('\n')
      expect(getStatus).toBe('200')
      const [r] = expectArrayOf(JSON.parse(got), SPEC.request, 'requests')
      expect(r).toMatchObject({ description: '闻到煤气味 & 有人晕倒? 50%+', service_code: 'safety_hazard.gas', agency_responsible: '燃气公司' })
      const missing = await curl('curl', ['-sS', '-w', '\n%{http_code}', `${url}${ROOT}/requests.json`, '--data-urlencode', `api_key=${KEY}`, '--data-urlencode', 'service_code=safety_hazard.gas'])
      const [err, errStatus] = missing.stdout.split('\n')
      expect(errStatus).toBe('400')
      expect(expectArrayOf(JSON.parse(err), SPEC.error, 'errors')[0].description).toContain('lat and long are required')
    } finally {
      await app.close()
    }
  })
})

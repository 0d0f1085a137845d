import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Type } from 'typebox'
import type { AppInstance } from '../../app-types.ts'
import { insertTimeline } from '../../repos/cases.ts'
import { checkOpen311Key } from '../../repos/open311-keys.ts'
import { reportCase } from '../../services/cases.ts'
import { HttpError } from '../../services/http-error.ts'
import { claimKey, completeKey, parseIdempotencyKey, releaseKey, requestHash, type IdempotentRequest } from '../../services/idempotency.ts'
import { callerOf } from '../caller.ts'
import { baseUrl } from '../ogc/request.ts'
import { findRequestRow, findRequestRows, getServiceRow, listServiceRows, serviceNotice, toRequest, toService } from './data.ts'
import { Open311Error, open311ErrorHandler } from './errors.ts'
import { OPEN311_ROOT, caseRef, jsonResource, localeOf, parseCreate, parseForm, parseRequestsQuery, type Open311Create, type RequestsQuery } from './input.ts'
import { CreatedSchema, DiscoverySchema, Open311ErrorSchema, RequestSchema, SPECIFICATION, ServiceDefinitionSchema, ServiceSchema, TokenSchema, type Created } from './schemas.ts'

const POST_PATH = `${OPEN311_ROOT}/requests.json`

const CONTACT = process.env.OPEN311_CONTACT ?? 'GridCommand 网格化社会治理指挥中心 — ask the command center that runs this server'
const KEY_SERVICE =
  process.env.OPEN311_KEY_SERVICE ??
  'POST requests.json needs an api_key issued to your app: ask the command center that runs this server (an admin issues it with POST /api/open311/keys). Reads (GET) need no key'

/** Sortable changeset: when the service list's source (data/reference/categories.json) last changed. */
function changeset(): string {
  try {
    return statSync(fileURLToPath(new URL('../../../../data/reference/categories.json', import.meta.url))).mtime.toISOString()
  } catch {
    return new Date().toISOString()
  }
}

/** Query arguments every GET accepts; others are ignored, as the spec's optional-argument rule lets clients send them. */
const CommonQuery = {
  jurisdiction_id: Type.Optional(Type.String({ description: 'ignored: this endpoint serves one jurisdiction' })),
  api_key: Type.Optional(Type.String({ description: 'not needed to read; POST requires one (in the body, or here)' })),
  locale: Type.Optional(Type.String({ description: 'extension: zh (default) or en, for names and notices' })),
}
const MetaQuery = Type.Object(CommonQuery)
const RequestsQuerySchema = Type.Object({
  ...CommonQuery,
  service_request_id: Type.Optional(Type.Array(Type.String(), { description: 'ids (case codes or uuids), comma-delimited; overrides the other arguments' })),
  service_code: Type.Optional(Type.Array(Type.String(), { description: 'service codes, comma-delimited' })),
  status: Type.Optional(Type.Array(Type.String(), { description: 'open, closed, or both comma-delimited' })),
  start_date: Type.Optional(Type.String({ description: 'W3C datetime; on requested_datetime' })),
  end_date: Type.Optional(Type.String({ description: 'W3C datetime, inclusive; at most 90 days after start_date' })),
})
const FileParams = Type.Object({ file: Type.String({ description: '<id>.json' }) })
const errorsOf = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Open311ErrorSchema]))
/** A resource named in the path: not JSON (400), or not there (404). */
const fileErrors = errorsOf(400, 404)

/** Resources of this API, for the fallback: a known path in another format → 400, with another method → 405. */
const RESOURCES: Array<{ prefix: string; re: RegExp; methods: string[] }> = [
  { prefix: '', re: /^discovery(\..*)?$/, methods: ['GET'] },
  { prefix: '', re: /^services(\..*)?$/, methods: ['GET'] },
  { prefix: 'services', re: /^services\/[^/]+$/, methods: ['GET'] },
  { prefix: '', re: /^requests(\..*)?$/, methods: ['GET', 'POST'] },
  { prefix: 'requests', re: /^requests\/[^/]+$/, methods: ['GET'] },
  { prefix: 'tokens', re: /^tokens\/[^/]+$/, methods: ['GET'] },
]

/** Which resource a path below /open311/v2/ names, and what is wrong with its format, if anything. */
function resourceOf(rest: string): { methods: string[]; problem?: string } | undefined {
  const r = RESOURCES.find((x) => x.re.test(rest))
  if (!r) return undefined
  const file = r.prefix ? rest.slice(r.prefix.length + 1) : rest
  try {
    jsonResource(r.prefix, file)
    return { methods: r.methods }
  } catch (err) {
    return { methods: r.methods, problem: (err as Error).message }
  }
}

/**
 * The Idempotency-Key scope of an Open311 client: the app (its api_key, by hash: the key itself is stored nowhere),
 * narrowed to the device when the app sends device_id — an app's devices choose their keys independently.
 */
function idempotencyScope(input: Open311Create, keyHash: string): string {
  const app = `open311:key:${keyHash}`
  return input.device_id ? `${app}:device:${input.device_id}` : app
}

/**
 * Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2: the categories as services, cases as
 * service requests (service_request_id = the case code), and intake that becomes a case with source `open311`.
 * JSON only. Every error is the spec's array `[{ code, description }]` (this plugin's own error handler).
 */
export default async function open311Routes(app: AppInstance) {
  app.setErrorHandler(open311ErrorHandler)
  // Bodies are the spec's form or JSON; Fastify's default text/plain parser would let any text through to the checks.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (req, body, done) => {
    try {
      done(null, parseForm(body as string, req.headers['content-type']))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  app.get(`${OPEN311_ROOT}/discovery.json`, { schema: { querystring: MetaQuery, response: { 200: DiscoverySchema, 400: Open311ErrorSchema } } }, async (req, reply) => {
    const stamp = changeset()
    return reply.send({
      changeset: stamp,
      contact: CONTACT,
      key_service: KEY_SERVICE,
      endpoints: [
        { specification: SPECIFICATION, url: `${baseUrl(req)}${OPEN311_ROOT}`, changeset: stamp, type: 'production', formats: ['application/json'] },
      ],
    })
  })

  app.get(`${OPEN311_ROOT}/services.json`, { schema: { querystring: MetaQuery, response: { 200: Type.Array(ServiceSchema), 400: Open311ErrorSchema } } }, async (req, reply) => {
    const locale = localeOf(req)
    return reply.send((await listServiceRows(app.db)).map((row) => toService(row, locale)))
  })

  app.get(
    `${OPEN311_ROOT}/services/:file`,
    { schema: { params: FileParams, querystring: MetaQuery, response: { 200: ServiceDefinitionSchema, ...fileErrors } } },
    async (req, reply) => {
      const code = jsonResource('services', req.params.file)
      const row = await getServiceRow(app.db, code)
      if (!row) throw new Open311Error(404, `service_code "${code.slice(0, 80)}" was not found (see services.json)`)
      return reply.send({ service_code: row.code, attributes: [] })
    },
  )

  app.get(
    `${OPEN311_ROOT}/requests.json`,
    { schema: { querystring: RequestsQuerySchema, response: { 200: Type.Array(RequestSchema), 400: Open311ErrorSchema } } },
    async (req, reply) => {
      const now = app.now()
      const filter = parseRequestsQuery(req.query as RequestsQuery, now)
      const ctx = { locale: localeOf(req), base: baseUrl(req), now }
      return reply.send((await findRequestRows(app.db, filter)).map((row) => toRequest(row, ctx)))
    },
  )

  app.get(
    `${OPEN311_ROOT}/requests/:file`,
    { schema: { params: FileParams, querystring: MetaQuery, response: { 200: Type.Array(RequestSchema), ...fileErrors } } },
    async (req, reply) => {
      const id = jsonResource('requests', req.params.file)
      const ref = caseRef(id)
      const row = ref && (await findRequestRow(app.db, ref))
      if (!row) throw new Open311Error(404, `service_request_id "${id.slice(0, 80)}" was not found`)
      const now = app.now()
      return reply.send([toRequest(row, { locale: localeOf(req), base: baseUrl(req), now })])
    },
  )

  // Requests are created in real time, so a client never needs a token; the case uuid works as one anyway.
  app.get(
    `${OPEN311_ROOT}/tokens/:file`,
    { schema: { params: FileParams, querystring: MetaQuery, response: { 200: Type.Array(TokenSchema), ...fileErrors } } },
    async (req, reply) => {
      const token = jsonResource('tokens', req.params.file)
      const ref = caseRef(token)
      const row = ref && 'uuid' in ref ? await findRequestRow(app.db, ref) : undefined
      if (!row) throw new Open311Error(404, `token "${token.slice(0, 80)}" was not found`)
      return reply.send([{ service_request_id: row.code, token: row.id }])
    },
  )

  app.post(
    POST_PATH,
    {
      schema: {
        description:
          'application/x-www-form-urlencoded (the spec) or application/json: api_key (required: the key issued to your app; missing → 400, ' +
          'unknown or revoked → 403), service_code, lat, long (WGS84), description, address_string, ' +
          'email, first_name, last_name, phone, device_id, account_id, media_url, jurisdiction_id, address_id',
        querystring: MetaQuery,
        // The fields are read by parseCreate (input.ts), which reports every problem at once in the spec's words; the
        // schema only makes the body pass the text check every route's body gets (validation.ts).
        body: Type.Unknown(),
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        // 400 also for a point outside every grid; 409 while the first request with this Idempotency-Key runs.
        response: { 201: Type.Array(CreatedSchema), ...errorsOf(400, 403, 404, 409, 413, 415) },
      },
    },
    async (req, reply) => {
      const now = app.now()
      const locale = localeOf(req)
      const input = parseCreate(req.body, (req.query as { api_key?: unknown }).api_key)
      // The spec's answer to a bad key is 403; checked before anything else is looked at or written.
      const apiKey = await checkOpen311Key(app.db, input.api_key, now)
      if (!apiKey.ok) {
        throw new Open311Error(403, `api_key is ${apiKey.reason === 'revoked' ? 'revoked' : 'not a key issued here'}: ask for a key (see key_service in discovery.json)`)
      }
      const reporter = callerOf(req)
      const key = parseIdempotencyKey(req.headers['idempotency-key'])
      const service = await getServiceRow(app.db, input.service_code)
      if (!service) throw new Open311Error(404, `service_code "${input.service_code}" was not found (see services.json)`)

      const idem: IdempotentRequest | undefined = key
        ? { scope: idempotencyScope(input, apiKey.keyHash), key, hash: requestHash('POST', POST_PATH, req.body) }
        : undefined
      if (idem) {
        const claim = await claimKey(app.db, idem, now)
        if (claim.kind === 'replay') {
          return reply.code(claim.statusCode as 201).header('idempotent-replayed', 'true').send(claim.body as Created[])
        }
      }

      // What the case has no column for stays on the timeline for staff (never in the public status_notes):
      // the contact details, and media_url, kept as a link and never fetched.
      const { service_code: _c, lat: _la, long: _lo, description: _d, address_string: _a, api_key: _k, jurisdiction_id: _j, ...extra } = input
      let body: Created[] | undefined
      try {
        const created = await reportCase(
          app.db,
          {
            category: service.code,
            description: input.description ?? service.zh,
            lon: input.long,
            lat: input.lat,
            source: 'open311',
            ...(input.address_string ? { address: input.address_string } : {}),
          },
          {
            reporter,
            now,
            inTransaction: async (tx, c) => {
              if (Object.keys(extra).length) {
                await insertTimeline(tx, {
                  caseId: c.id,
                  at: now,
                  actor: 'open311',
                  action: 'note',
                  fromStatus: c.status,
                  toStatus: c.status,
                  note: input.media_url ? `Open311 media_url (as sent, not fetched): ${input.media_url}` : 'Open311 intake details',
                  data: { open311: extra },
                })
              }
              const agency = locale === 'zh' ? service.departmentZh : service.departmentEn
              const notice = serviceNotice(agency, c.dueAt, false, locale)
              body = [{ service_request_id: c.code, service_notice: notice, account_id: null, x_gridcommand_id: c.id }]
              if (idem) await completeKey(tx, idem, 201, body)
            },
          },
        )
        return reply
          .code(201)
          .header('location', `${OPEN311_ROOT}/requests/${created.code}.json`)
          .send(body!)
      } catch (err) {
        if (idem) await releaseKey(app.db, idem)
        if (err instanceof HttpError && err.code === 'outside_grid') {
          throw new Open311Error(400, `lat/long (${input.lat}, ${input.long}) lies outside every grid this jurisdiction serves: nothing was created`)
        }
        throw err
      }
    },
  )

  // Anything else under /open311: a known resource in another format (400: JSON only), with another method (405),
  // or nothing at all (404) — always as the spec's error array.
  app.all('/open311/*', async (req, reply) => {
    const path = req.url.split('?')[0]
    let rest: string | undefined
    try {
      rest = path.startsWith(`${OPEN311_ROOT}/`) ? decodeURIComponent(path.slice(OPEN311_ROOT.length + 1)) : undefined
    } catch {
      rest = undefined
    }
    const known = rest === undefined ? undefined : resourceOf(rest)
    if (!known) throw new Open311Error(404, `${path} is not an Open311 resource; start from ${OPEN311_ROOT}/discovery.json`)
    if (known.problem) throw new Open311Error(400, known.problem)
    const allowed = known.methods.includes('GET') ? [...known.methods, 'HEAD'] : known.methods
    return reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send([{ code: 405, description: `${req.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}` }])
  })
}

import type { FastifyRequest } from 'fastify'
import { Open311Error } from './errors.ts'

/** Where the API lives. */
export const OPEN311_ROOT = '/open311/v2'

/** Locale of names and notices: Chinese by default, `?locale=en` for English (an extension of ours). */
export type Locale = 'zh' | 'en'

export function localeOf(req: FastifyRequest): Locale {
  const raw = (req.query as { locale?: unknown } | undefined)?.locale
  if (raw === undefined) return 'zh'
  if (raw === 'zh' || raw === 'en') return raw
  throw new Open311Error(400, `locale must be zh or en; got "${String(raw).slice(0, 40)}"`)
}

// ---- resource path segments: <name>.json ------------------------------------------------------------------------

const FORMAT_RE = /^[a-z][a-z0-9]{0,7}$/i

/**
 * `GC20261121000042.json` → `GC20261121000042` (prefix names the collection: requests, services, tokens; '' for a
 * top-level file such as `services.json`). Only JSON is served: another format (`.xml`) is a 400 saying so, no
 * format at all a 400 asking for `.json`.
 */
export function jsonResource(prefix: string, file: string): string {
  const dot = file.lastIndexOf('.')
  const format = dot > 0 ? file.slice(dot + 1) : ''
  if (format === 'json') return file.slice(0, dot)
  const at = (name: string) => `${OPEN311_ROOT}/${prefix ? `${prefix}/` : ''}${name}.json`
  if (FORMAT_RE.test(format)) {
    throw new Open311Error(400, `format "${format}" is not served: this endpoint answers JSON only (application/json); ask for ${at(file.slice(0, dot))}`)
  }
  throw new Open311Error(400, `add the response format to the URL: ${at(file)} (only JSON is served)`)
}

// ---- the form body ----------------------------------------------------------------------------------------------

/**
 * application/x-www-form-urlencoded → { field: value }, a field sent twice → [v1, v2] (refused by the body check).
 * UTF-8 only, as the spec requires.
 */
export function parseForm(text: string, contentType: string | undefined): Record<string, string | string[]> {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase()
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new Open311Error(415, `charset "${charset}" is not accepted: send the form as UTF-8 (charset=utf-8)`)
  }
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(text)) {
    const held = out[k]
    out[k] = held === undefined ? v : Array.isArray(held) ? [...held, v] : [held, v]
  }
  return out
}

// ---- POST requests: the spec's fields, checked as strictly as POST /api/cases ------------------------------------

/** Largest description we store (POST /api/cases takes the same; the spec allows up to 4,000). */
export const MAX_DESCRIPTION = 2000
export const MAX_ADDRESS = 300

const LAT = { field: 'lat', min: -90, max: 90, what: 'a WGS84 latitude in degrees' }
const LONG = { field: 'long', min: -180, max: 180, what: 'a WGS84 longitude in degrees' }
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE_RE = /^[0-9+()\-.\s]{3,40}$/

type TextCheck = (v: string) => string | undefined

const httpUrl: TextCheck = (v) => {
  try {
    const u = new URL(v)
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'must be an http(s) URL'
  } catch {
    return 'must be an absolute http(s) URL'
  }
}

/** Every field the spec defines for POST Service Request, with our limits. */
const TEXT_FIELDS: Record<string, { max: number; check?: TextCheck }> = {
  jurisdiction_id: { max: 255 },
  api_key: { max: 255 },
  service_code: { max: 80 },
  lat: { max: 40 },
  long: { max: 40 },
  address_string: { max: MAX_ADDRESS },
  address_id: { max: 255 },
  email: { max: 254, check: (v) => (EMAIL_RE.test(v) ? undefined : 'must be an email address') },
  device_id: { max: 255 },
  account_id: { max: 255 },
  first_name: { max: 100 },
  last_name: { max: 100 },
  phone: { max: 40, check: (v) => (PHONE_RE.test(v) ? undefined : 'must be a phone number (digits, spaces, + - ( ) .)') },
  description: { max: MAX_DESCRIPTION },
  media_url: { max: 2000, check: httpUrl },
}

export interface Open311Create {
  service_code: string
  lat: number
  long: number
  address_string?: string
  address_id?: string
  description?: string
  email?: string
  device_id?: string
  account_id?: string
  first_name?: string
  last_name?: string
  phone?: string
  media_url?: string
  /** Required (issue #6): the key issued to the client app, from the body or the query string. */
  api_key: string
  jurisdiction_id?: string
}

const chars = (s: string) => [...s].length

/**
 * Checks a POST body (the form, or a JSON object) and returns the request, or throws one 400 listing every problem.
 * An empty value counts as not sent (the spec's rule for optional arguments). Unknown fields are refused, never
 * dropped; `attribute[...]` is refused because no service has attributes (metadata false). api_key is required, in
 * the body (the spec) or the query string (`queryApiKey`); whether the key is valid is the caller's check.
 */
export function parseCreate(body: unknown, queryApiKey?: unknown): Open311Create {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Open311Error(400, 'the body must be a form (application/x-www-form-urlencoded) or a JSON object of the GeoReport v2 fields')
  }
  const problems: string[] = []
  const values: Record<string, string> = {}
  for (const [key, raw] of Object.entries(body as Record<string, unknown>)) {
    const spec = TEXT_FIELDS[key]
    if (!spec) {
      problems.push(
        /^attribute(\[|$)/.test(key)
          ? `${key}: no service here has attributes (metadata is false), so attribute fields are not accepted`
          : `${key.slice(0, 60)} is not a GeoReport v2 field; fields: ${Object.keys(TEXT_FIELDS).join(', ')}`,
      )
      continue
    }
    if (Array.isArray(raw)) {
      problems.push(`${key} was sent more than once`)
      continue
    }
    if (raw === null || raw === undefined) continue
    let text: string
    if (typeof raw === 'string') text = key === 'description' ? raw : raw.trim()
    else if (typeof raw === 'number' && Number.isFinite(raw)) text = String(raw)
    else {
      problems.push(`${key} must be a string${key === 'lat' || key === 'long' ? ' or a number' : ''}`)
      continue
    }
    if (text.trim() === '') continue
    if (chars(text) > spec.max) {
      problems.push(`${key} must be at most ${spec.max} characters (got ${chars(text)})`)
      continue
    }
    const bad = spec.check?.(text)
    if (bad) {
      problems.push(`${key} ${bad}`)
      continue
    }
    values[key] = text
  }

  const coordinate = (c: typeof LAT): number | undefined => {
    const text = values[c.field]
    if (text === undefined) return undefined
    const n = NUMBER_RE.test(text) ? Number(text) : Number.NaN
    if (!Number.isFinite(n) || n < c.min || n > c.max) {
      problems.push(`${c.field} must be ${c.what}, a number from ${c.min} to ${c.max}; got "${text.slice(0, 40)}"`)
      return undefined
    }
    return n
  }
  const lat = coordinate(LAT)
  const long = coordinate(LONG)
  const latSent = values.lat !== undefined
  const longSent = values.long !== undefined
  if (latSent !== longSent) {
    problems.push(`lat and long must be sent together: ${latSent ? 'long' : 'lat'} is missing`)
  } else if (!latSent) {
    const given = ['address_string', 'address_id'].filter((f) => values[f] !== undefined)
    problems.push(
      given.length
        ? `lat and long are required: this server has no geocoder, so ${given.join(' / ')} alone cannot place the request; send its WGS84 lat and long`
        : 'lat and long are required: the WGS84 position of the problem',
    )
  }
  if (values.service_code === undefined) problems.push('service_code is required (see services.json)')

  const fromQuery = typeof queryApiKey === 'string' ? queryApiKey.trim() : ''
  if (queryApiKey !== undefined && typeof queryApiKey !== 'string') problems.push('api_key was sent more than once')
  else if (chars(fromQuery) > TEXT_FIELDS.api_key.max) problems.push(`api_key must be at most ${TEXT_FIELDS.api_key.max} characters`)
  else if (fromQuery && values.api_key !== undefined && values.api_key !== fromQuery) {
    problems.push('api_key was sent in the body and in the query string with different values: send it once')
  } else if (fromQuery) values.api_key = fromQuery
  if (values.api_key === undefined && !problems.some((p) => p.startsWith('api_key'))) {
    problems.push('api_key is required: the key issued to your app (see key_service in discovery.json)')
  }

  if (problems.length) throw new Open311Error(400, problems)
  const { lat: _lat, long: _long, service_code, api_key, ...rest } = values
  return { ...rest, service_code, api_key: api_key!, lat: lat!, long: long! }
}

// ---- GET requests.json query -------------------------------------------------------------------------------------

/** Most requests one query returns, and the widest date range, as the spec suggests (90 days, first 1000). */
export const MAX_REQUESTS = 1000
export const MAX_SPAN_DAYS = 90
const DAY_MS = 86_400_000

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const CODE_RE = /^[A-Za-z]{2}\d{6,20}$/
const SERVICE_CODE_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/

/** A case reference as a client may write it: the case code (GC20261121000042) or the case uuid. */
export type CaseRef = { uuid: string } | { code: string }

export function caseRef(text: string): CaseRef | undefined {
  if (UUID_RE.test(text)) return { uuid: text.toLowerCase() }
  if (CODE_RE.test(text)) return { code: text.toUpperCase() }
  return undefined
}

/** Values of a repeatable, comma-delimited parameter (`status=open,closed` or `status=open&status=closed`). */
function listOf(raw: string[] | undefined): string[] | undefined {
  if (!raw) return undefined
  const items = raw.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
  return items.length ? [...new Set(items)] : undefined
}

const W3_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

/**
 * A W3C-datetime (the spec's "w3 format") with its time zone, e.g. 2026-11-01T00:00:00Z or 2026-11-01T08:00+08:00.
 * A date alone (2026-11-01) is that day in the jurisdiction's zone (Asia/Shanghai); as an end date it includes the
 * whole day. undefined: not a valid datetime.
 */
export function parseW3(text: string, end: boolean): Date | undefined {
  const m = W3_RE.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, tz] = m
  const daysIn = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate()
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > daysIn) return undefined
  if (h === undefined) {
    const start = Date.parse(`${y}-${mo}-${d}T00:00:00+08:00`)
    return new Date(end ? start + DAY_MS - 1 : start)
  }
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return undefined
  if (tz !== 'Z' && (Number(tz.slice(1, 3)) > 14 || Number(tz.slice(4, 6)) > 59)) return undefined
  const t = Date.parse(text)
  return Number.isFinite(t) ? new Date(t) : undefined
}

export interface RequestsQuery {
  service_request_id?: string[]
  service_code?: string[]
  status?: string[]
  start_date?: string
  end_date?: string
}

export interface RequestsFilter {
  /** When set, the other filters are ignored (the spec: "This overrides all other arguments"). */
  refs?: CaseRef[]
  serviceCodes?: string[]
  /** undefined: open and closed. */
  closed?: boolean
  /** Inclusive range on requested_datetime. */
  from?: Date
  to?: Date
  limit: number
}

/** The spec's query arguments → a filter, or one 400 listing every problem. Default: the 90 days up to `now`. */
export function parseRequestsQuery(q: RequestsQuery, now: Date): RequestsFilter {
  const problems: string[] = []
  const ids = listOf(q.service_request_id)
  if (ids) {
    if (ids.length > MAX_REQUESTS) problems.push(`service_request_id: at most ${MAX_REQUESTS} ids at once`)
    const refs: CaseRef[] = []
    for (const id of ids) {
      const ref = caseRef(id)
      if (ref) refs.push(ref)
      else problems.push(`service_request_id "${id.slice(0, 60)}" is neither a request id (e.g. GC20261121000042) nor a uuid`)
    }
    if (problems.length) throw new Open311Error(400, problems)
    return { refs, limit: MAX_REQUESTS }
  }

  const serviceCodes = listOf(q.service_code)
  for (const code of serviceCodes ?? []) {
    if (!SERVICE_CODE_RE.test(code) || code.length > 80) problems.push(`service_code "${code.slice(0, 60)}" is not a service code (see services.json)`)
  }
  const statuses = listOf(q.status)
  for (const s of statuses ?? []) if (s !== 'open' && s !== 'closed') problems.push(`status must be open or closed (comma-separated for both); got "${s.slice(0, 40)}"`)
  const closed = statuses && statuses.length === 1 ? statuses[0] === 'closed' : undefined

  const date = (field: 'start_date' | 'end_date'): Date | undefined => {
    const text = q[field]
    if (text === undefined) return undefined
    const d = parseW3(text, field === 'end_date')
    if (!d) problems.push(`${field} must be a W3C datetime with a time zone, e.g. 2026-11-01T00:00:00Z or 2026-11-01T08:00:00+08:00; got "${text.slice(0, 40)}"`)
    return d
  }
  const start = date('start_date')
  const end = date('end_date')
  if (start && end) {
    if (end < start) problems.push('end_date must not be before start_date')
    else if (end.getTime() - start.getTime() > MAX_SPAN_DAYS * DAY_MS) problems.push(`start_date and end_date may not span more than ${MAX_SPAN_DAYS} days`)
  }
  if (problems.length) throw new Open311Error(400, problems)

  const span = MAX_SPAN_DAYS * DAY_MS
  const to = end ?? (start ? new Date(start.getTime() + span) : now)
  const from = start ?? new Date(to.getTime() - span)
  return { serviceCodes, closed, from, to, limit: MAX_REQUESTS }
}

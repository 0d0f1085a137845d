import type { FastifyRequest } from 'fastify'
import type { Bbox } from '../../repos/features.ts'
import { HttpError } from '../../services/http-error.ts'

function firstValue(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h
  return v?.split(',')[0]?.trim() || undefined
}

const HOST_RE = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * `proto://host` as the client sees it, for the absolute links OGC API responses carry: a reverse proxy's
 * X-Forwarded-Proto / X-Forwarded-Host win over the connection's own. Malformed values are ignored, so a header
 * cannot inject anything but a host name into the links.
 */
export function baseUrl(req: Pick<FastifyRequest, 'headers' | 'protocol'>): string {
  const fwdProto = firstValue(req.headers['x-forwarded-proto'])?.toLowerCase()
  const proto = fwdProto === 'http' || fwdProto === 'https' ? fwdProto : req.protocol
  const candidates = [firstValue(req.headers['x-forwarded-host']), firstValue(req.headers.host)]
  const host = candidates.find((h) => h !== undefined && HOST_RE.test(h)) ?? 'localhost'
  // Through URL so every link spells the origin alike (a default port such as :80 dropped).
  return new URL(`${proto}://${host}`).origin
}

interface Accepted {
  type: string
  q: number
}

function parseAccept(header: string): Accepted[] {
  return header
    .split(',')
    .map((part) => {
      const [type, ...params] = part.trim().split(';')
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      const q = qParam ? Number(qParam.slice(2)) : 1
      return { type: type.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0 }
    })
    .filter((a) => a.type && a.q > 0)
}

/**
 * The first of `offers` (server preference order) that the Accept header takes with the highest quality; a missing
 * Accept takes anything. Throws 406 when none is acceptable.
 */
export function negotiate(req: Pick<FastifyRequest, 'headers'>, offers: readonly string[]): string {
  const header = req.headers.accept
  if (!header) return offers[0]
  const accepted = parseAccept(header)
  let best: { offer: string; q: number } | undefined
  for (const offer of offers) {
    const [major] = offer.split('/')
    const q = Math.max(0, ...accepted.filter((a) => a.type === offer || a.type === `${major}/*` || a.type === '*/*').map((a) => a.q))
    if (q > 0 && (!best || q > best.q)) best = { offer, q }
  }
  if (!best) throw new HttpError(406, 'not_acceptable', `this resource is available as ${offers.join(' or ')}`)
  return best.offer
}

const BBOX_HELP = 'bbox must be minLon,minLat,maxLon,maxLat in CRS84 degrees (e.g. 119.6,29.0,119.7,29.1)'

/**
 * OGC API – Features §7.15.3: four numbers (or six, with heights, which are ignored) in CRS84. A minLon greater than
 * maxLon is a box crossing the antimeridian; a minLat greater than maxLat is an error.
 */
export function parseBbox(text: string | undefined): Bbox | undefined {
  if (text === undefined) return undefined
  const parts = text.split(',').map((s) => s.trim())
  const nums = parts.map((s) => (s === '' ? Number.NaN : Number(s)))
  if ((nums.length !== 4 && nums.length !== 6) || nums.some((n) => !Number.isFinite(n))) {
    throw new HttpError(400, 'invalid_request', `${BBOX_HELP}; got "${text.slice(0, 100)}"`, 'bbox')
  }
  const [minx, miny, maxx, maxy] = nums.length === 6 ? [nums[0], nums[1], nums[3], nums[4]] : nums
  if ([minx, maxx].some((x) => x < -180 || x > 180) || [miny, maxy].some((y) => y < -90 || y > 90)) {
    throw new HttpError(400, 'invalid_request', `${BBOX_HELP}: longitudes within ±180, latitudes within ±90`, 'bbox')
  }
  if (miny > maxy) throw new HttpError(400, 'invalid_request', `${BBOX_HELP}: minLat (${miny}) is greater than maxLat (${maxy})`, 'bbox')
  return [minx, miny, maxx, maxy]
}

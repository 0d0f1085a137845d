import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { isDeepStrictEqual } from 'node:util'
import swagger, { type FastifyDynamicSwaggerOptions, type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ErrorSchema } from '../../shared/schemas/common.ts'
import { Open311ErrorSchema } from './routes/open311/schemas.ts'

/** The page; the document is at /api/docs/json (and /api/docs/yaml). */
export const DOCS_PREFIX = '/api/docs'

/** Operation tags by path, first match wins; the page groups operations by tag in this order. */
const TAGS: Array<[prefix: string, tag: string]> = [
  ['/api/auth', 'auth'],
  ['/api/health', 'health'],
  ['/api/regions', 'regions'],
  ['/api/cases/:id/candidates', 'dispatch'],
  ['/api/cases/actions/bulk', 'dispatch'],
  ['/api/cases', 'cases'],
  ['/api/photos', 'photos'],
  ['/api/exports', 'exports'],
  ['/api/workers', 'workers'],
  ['/api/checkins', 'checkins'],
  ['/api/cameras', 'cameras'],
  ['/api/stats', 'stats'],
  ['/api/categories', 'reference'],
  ['/api/departments', 'reference'],
  ['/api/open311', 'open311'],
  ['/open311', 'open311'],
  ['/ogc', 'ogc'],
  ['/tiles', 'tiles'],
]
const TAG_DESCRIPTIONS: Record<string, string> = {
  auth: 'sign-in: a Bearer access token (15 min) and a refresh token (one use, 7 days)',
  health: 'liveness for balancers and monitors',
  regions: 'the region hierarchy district → micro-grid: boundaries, profiles, point → region, boundary import',
  cases: 'intake, the list, the detail and the closed-loop actions (server/src/auth/README.md: who may do what)',
  dispatch: 'the dispatcher’s workspace: nearest workers and cameras, bulk actions',
  photos: 'photos for reports: upload, then name their ids in a report or an action',
  exports: 'the case ledger (台账) as CSV or GeoJSON',
  workers: 'grid workers: positions, status, lists, tracks, nearest',
  checkins: 'patrol check-ins (走访打卡) of grid workers: recorded from the field app, read as GeoJSON by the staff',
  cameras: 'cameras and their status',
  stats: 'the wall’s statistics',
  reference: 'categories and departments',
  open311: 'Open311 GeoReport v2 (errors are the spec’s array of { code, description }) and its api keys',
  ogc: 'OGC API – Features; GIS clients read its own OpenAPI 3.0 document at GET /ogc/api',
  tiles: 'Mapbox Vector Tiles of the OGC collections',
}

/**
 * Routes that answer an anonymous caller 401 in AUTH_MODE=token: the document says they need a Bearer token. Every
 * other route takes one optionally (staff who signed in may see more, or act as themselves).
 * server/test/routes/openapi.test.ts holds this list to what the routes answer.
 */
const SIGNED_IN: Array<[method: string, prefix: string]> = [
  ['GET', '/api/auth/me'],
  ['POST', '/api/regions/import'],
  ['GET', '/api/cases'],
  ['POST', '/api/cases/'],
  ['GET', '/api/exports/'],
  ['*', '/api/workers'],
  ['*', '/api/checkins'],
  ['*', '/api/cameras'],
  ['GET', '/api/stats/'],
  ['POST', '/api/open311/keys'],
]
/** Public routes under a SIGNED_IN prefix. */
const OPEN_UNDER: Array<[method: string, url: string]> = [['GET', '/api/cases/nearby']]
const needsSignIn = (method: string, url: string) =>
  !OPEN_UNDER.some(([m, u]) => m === method && url === u) && SIGNED_IN.some(([m, p]) => (m === '*' || m === method) && url.startsWith(p))

/**
 * Left out of the document: the answers to paths and actions that do not exist (a 404 or the Open311 405 for any
 * method). The documentation's own routes and the web app's files are hidden by their plugins.
 */
const isFallback = (url: string) => url.endsWith('*') || url === '/api/cases/:id/actions/:action'

const BEARER = 'bearer'

const DESCRIPTION = `The HTTP API of GridCommand (网格化社会治理指挥中心), generated from the schemas the routes validate with.

**Signing in.** \`POST /api/auth/login\` with \`{ username, password }\` answers a token pair: \`accessToken\`, a JWT valid
\`expiresIn\` (900) seconds, and \`refreshToken\` (\`rt_…\`). Send the access token as \`Authorization: Bearer <accessToken>\`.
Before it expires, \`POST /api/auth/refresh\` with \`{ refreshToken }\` answers a new pair; the old refresh token is used
up, and presenting it again ends the session (401 \`refresh_token_reused\`). \`POST /api/auth/logout\` ends the session
(\`all: true\`: every session of the user). A malformed, expired or revoked Bearer token is answered 401
\`invalid_token\` with \`WWW-Authenticate: Bearer\` on every route but those three. An operation whose only security
requirement is \`bearer\` needs a token (the page shows an open lock on it until you Authorize); the others take one
optionally (staff who signed in may see more, e.g. a grid chief's phone number). What each role may do, and where:
server/src/auth/README.md. A server started with AUTH_MODE=dev-header (development and the test suites) also serves
callers without a token, unscoped, and takes \`X-Actor\` as the caller's name.

**Errors.** Every 4xx and 5xx answer under /api, /ogc and /tiles is \`{ error, message, field? }\` (the \`Error\` schema):
\`error\` a stable code (\`invalid_request\`, \`case_not_found\`, …), \`message\` a sentence, \`field\` the offending field of
a 400. Open311 answers with its spec's array of \`{ code, description }\`. With the general rate limit on
(RATE_LIMIT_MAX), every route but /api/health may answer 429 with \`Retry-After\`.`

/** The answers every route may give (auth hook, rate limit, error handler), as components.responses. */
const COMMON_RESPONSES = {
  InvalidToken: { description: 'the Bearer token is malformed, expired or revoked (invalid_token)', schema: ErrorSchema },
  TooManyRequests: { description: 'over the general rate limit (too_many_requests): retry after Retry-After seconds', schema: ErrorSchema },
  InternalError: { description: 'internal_error: nothing the client can change', schema: ErrorSchema },
  Open311TooManyRequests: { description: 'over the general rate limit: retry after Retry-After seconds', schema: Open311ErrorSchema },
  Open311InternalError: { description: 'internal server error', schema: Open311ErrorSchema },
}

type Json = Record<string, unknown>
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Json
const errorJson = plain(ErrorSchema)
const json = (schema: unknown) => ({ 'application/json': { schema } })

/** The description of a response whose schema gave none. */
function describeStatus(status: string): string {
  const s = Number(status)
  if (s === 400) return 'invalid request: `field` names the offending field'
  if (s === 401) return 'no valid credentials: not signed in, a token that is not valid, or (sign-in) a wrong password or refresh token'
  if (s === 403) return 'signed in, but this role or scope may not do this'
  return STATUS_CODES[s] ?? 'answer'
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

/**
 * The OpenAPI 3.1 document of every route, built by @fastify/swagger from the route schemas as the routes are
 * registered (so call this before them), served as JSON at /api/docs/json and YAML at /api/docs/yaml, and read by
 * the page at /api/docs (@fastify/swagger-ui: its scripts and styles are served from here, no inline script, so it
 * works offline and under the app's Content-Security-Policy).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  /** Per operation ("GET /api/cases/{id}"): whether the auth hook and the general rate limit apply to it. */
  const facts = new Map<string, { bearerChecked: boolean; rateLimited: boolean }>()

  const transform: SwaggerTransform = ({ schema, url, route }) => {
    if (isFallback(url)) return { url, schema: { ...schema, hide: true } }
    const method = [route.method].flat()[0]
    facts.set(`${method.toLowerCase()} ${openApiPath(url)}`, {
      bearerChecked: route.config?.ignoreInvalidBearer !== true,
      rateLimited: (route.config as { rateLimit?: unknown } | undefined)?.rateLimit !== false,
    })
    const tag = TAGS.find(([prefix]) => url.startsWith(prefix))?.[1]
    const security: Array<Record<string, string[]>> = needsSignIn(method, url) ? [{ [BEARER]: [] }] : [{ [BEARER]: [] }, {}]
    return { url, schema: { ...schema, ...(tag ? { tags: [tag] } : {}), security } }
  }

  /** The error shape is one schema, the common answers are references, every answer has a description. */
  const transformObject: SwaggerTransformObject = (document) => {
    if (!('openapiObject' in document)) return document.swaggerObject
    const paths = document.openapiObject.paths as Record<string, Record<string, { responses: Record<string, Json> }>>
    for (const [path, item] of Object.entries(paths)) {
      const open311 = path.startsWith('/open311')
      for (const [method, op] of Object.entries(item)) {
        for (const [status, res] of Object.entries(op.responses)) {
          if (res.description === 'Default Response') res.description = describeStatus(status)
          for (const media of Object.values((res.content ?? {}) as Record<string, { schema?: unknown }>)) {
            if (isDeepStrictEqual(media.schema, errorJson)) media.schema = { $ref: '#/components/schemas/Error' }
          }
        }
        const fact = facts.get(`${method} ${path}`)
        const add = (status: string, name: string) => (op.responses[status] ??= { $ref: `#/components/responses/${name}` })
        if (fact?.bearerChecked) add('401', 'InvalidToken')
        if (fact?.rateLimited) add('429', open311 ? 'Open311TooManyRequests' : 'TooManyRequests')
        add('500', open311 ? 'Open311InternalError' : 'InternalError')
      }
    }
    return document.openapiObject
  }

  const options: FastifyDynamicSwaggerOptions = {
    // Schemas are JSON Schema (TypeBox) here, which the OpenAPI types do not spell: one cast for the whole object.
    openapi: {
      openapi: '3.1.0',
      info: { title: 'GridCommand API', version, description: DESCRIPTION },
      tags: Object.entries(TAG_DESCRIPTIONS).map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: {
          [BEARER]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'the accessToken of POST /api/auth/login or POST /api/auth/refresh (valid 900 s)',
          },
        },
        schemas: {
          Error: { ...errorJson, description: 'every 4xx/5xx answer under /api, /ogc and /tiles' },
        },
        responses: Object.fromEntries(
          Object.entries(COMMON_RESPONSES).map(([name, r]) => [
            name,
            { description: r.description, content: json(r.schema === ErrorSchema ? { $ref: '#/components/schemas/Error' } : plain(r.schema)) },
          ]),
        ),
      },
    } as FastifyDynamicSwaggerOptions['openapi'],
    transform,
    transformObject,
  }
  await app.register(swagger, options)
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    theme: { title: 'GridCommand API' },
    uiConfig: { deepLinking: true, docExpansion: 'list' },
  })
}

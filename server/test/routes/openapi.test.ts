import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileErrors, validate } from '@readme/openapi-parser'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorSchema } from '../../../shared/schemas/common.ts'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { TEST_SECRET } from '../auth/support.ts'

/**
 * The OpenAPI document at /api/docs/json (server/src/openapi.ts), generated from the route schemas: every route the
 * app registers is in it with its method, but for the ones below, each with the reason it is left out. HEAD routes
 * are the twins Fastify adds to every GET: the GET documents them.
 */
const LEFT_OUT: Array<[pattern: RegExp, reason: string]> = [
  [/^GET \/api\/docs(\/.*)?$/, 'the documentation itself: the page, its scripts and styles, this document as JSON and YAML'],
  [/^GET \/api\/\*$/, 'the JSON 404 of unknown API paths'],
  [/^POST \/api\/cases\/:id\/actions\/:action$/, 'the 404 of unknown case actions; every action is an operation of its own'],
  [/^GET \/ogc\/\*$/, 'the 404 of unknown OGC paths'],
  [/^GET \/tiles\/\*$/, 'the 404 of unknown tile paths'],
  [/^[A-Z]+ \/open311\/\*$/, 'the Open311 404/405 of unknown paths and methods, any method'],
  // The SPA fallback (client-side routes get index.html) is the not-found handler, not a route.
  [/^GET \/(index\.html|assets\/app\.js)?$/, 'the web app’s files (the stand-in build below), served by @fastify/static'],
]

type Doc = {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, { security?: Array<Record<string, string[]>>; responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, Record<string, unknown>>; responses: Record<string, unknown> }
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')
const operations = (doc: Doc) => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })))

describe.each(DB_MODES)('OpenAPI document and page at /api/docs (%s)', (mode) => {
  let app: AppInstance
  let doc: Doc
  const webDist = mkdtempSync(join(tmpdir(), 'gc-openapi-web-'))

  beforeAll(async () => {
    // A stand-in web build, so that the static routes are registered as in production.
    mkdirSync(join(webDist, 'assets'))
    writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>GridCommand</title>')
    writeFileSync(join(webDist, 'assets', 'app.js'), 'console.log(1)')
    app = await buildApp({ db: await testDb(mode), webDist, auth: { mode: 'token', secret: TEST_SECRET } })
    await app.ready()
    const res = await app.inject('/api/docs/json')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    doc = res.json()
  })
  afterAll(async () => {
    await app?.close()
    rmSync(webDist, { recursive: true, force: true })
  })

  it('has every registered route with its method, but the ones left out for a reason, and nothing else', () => {
    const routes = [...new Set(app.registeredRoutes.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`))]
    expect(routes.length).toBeGreaterThan(60)
    const documented = new Set(operations(doc).map(({ path, method }) => `${method} ${path}`))
    const leftOut = (route: string) => LEFT_OUT.some(([re]) => re.test(route))
    const missing = routes.filter((r) => !leftOut(r)).filter((r) => {
      const [method, url] = r.split(' ')
      return !documented.has(`${method.toLowerCase()} ${openApiPath(url)}`)
    })
    expect(missing, 'routes missing from the OpenAPI document').toEqual([])
    // Every exclusion still excludes something (the web app's files included: the stand-in build above).
    expect(LEFT_OUT.filter(([re]) => !routes.some((r) => re.test(r))).map(([re]) => String(re))).toEqual([])
    // Nothing documented that the app does not route, and nothing left out is documented anyway.
    const byKey = new Map(routes.map((r) => [`${r.split(' ')[0].toLowerCase()} ${openApiPath(r.split(' ')[1])}`, r]))
    expect([...documented].filter((k) => !byKey.has(k))).toEqual([])
    expect([...documented].filter((k) => leftOut(byKey.get(k)!))).toEqual([])
  })

  it('is valid OpenAPI 3.1 by @readme/openapi-parser, which refuses a broken copy', async () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toMatchObject({ title: 'GridCommand API', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
    const result = await validate(structuredClone(doc) as never)
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true)
    const broken = structuredClone(doc) as unknown as Record<string, any>
    broken.paths['/api/cases'].get.responses['200'] = { content: {} } // a response without its description
    expect((await validate(broken as never)).valid).toBe(false)
  })

  it('names the error shape once, and every 4xx/5xx answer of /api, /ogc and /tiles uses it', () => {
    expect(doc.components.schemas.Error).toEqual({ ...JSON.parse(JSON.stringify(ErrorSchema)), description: expect.any(String) })
    const resolve = (r: { $ref?: string; content?: Record<string, { schema: unknown }> }) =>
      (r.$ref ? doc.components.responses[r.$ref.split('/').pop()!] : r) as { content?: Record<string, { schema: unknown }> }
    const wrong: string[] = []
    const extended: string[] = []
    let errors = 0
    for (const { path, method, op } of operations(doc)) {
      if (path.startsWith('/open311')) continue
      for (const [status, res] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue
        errors++
        const schemas = Object.values(resolve(res).content ?? {}).map((m) => m.schema as { $ref?: string; properties?: Record<string, unknown> })
        if (schemas.length === 0) wrong.push(`${method} ${path} ${status}: no body`)
        for (const s of schemas) {
          if (s.$ref === '#/components/schemas/Error') continue
          // The shape with more in it, e.g. the timeline entries a stale version missed.
          if (s.properties?.error && s.properties.message) extended.push(`${method} ${path} ${status}`)
          else wrong.push(`${method} ${path} ${status}: ${JSON.stringify(s).slice(0, 80)}`)
        }
      }
      // Every route answers a bad token 401 and has a 500; only /api/health is outside the rate limit.
      for (const status of ['401', '500', ...(path === '/api/health' ? [] : ['429'])]) if (!op.responses[status]) wrong.push(`${method} ${path} lacks ${status}`)
    }
    expect(errors).toBeGreaterThan(200)
    expect(wrong).toEqual([])
    // The error bodies with more in them than the shape: a stale version (412) and a refused import (422).
    expect(new Set(extended.map((e) => e.replace(/actions\/\w+/, 'actions/*')))).toEqual(new Set(['post /api/cases/{id}/actions/* 412', 'post /api/regions/import 422']))
    expect(doc.paths['/api/cases/{id}/actions/dispatch'].post.responses['412'].content!['application/json'].schema).toMatchObject({ properties: { currentVersion: {}, changes: {} } })
    expect(doc.paths['/api/regions/import'].post.responses['422'].content!['application/json'].schema).toMatchObject({ properties: { problems: {} } })
  })

  it('describes the Bearer scheme, and marks exactly the routes that refuse an anonymous caller (401) as needing it', async () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    const info = (doc as unknown as { info: { description: string } }).info.description
    for (const step of ['POST /api/auth/login', 'POST /api/auth/refresh', 'Authorization: Bearer', 'refresh_token_reused', '{ error, message, field? }']) expect(info).toContain(step)
    const wrong: string[] = []
    let locked = 0
    for (const { path, method, op } of operations(doc)) {
      const required = JSON.stringify(op.security) === JSON.stringify([{ bearer: [] }])
      const optional = JSON.stringify(op.security) === JSON.stringify([{ bearer: [] }, {}])
      if (!required && !optional) wrong.push(`${method} ${path}: security ${JSON.stringify(op.security)}`)
      if (required) locked++
      // Anonymous, in AUTH_MODE=token, with a placeholder for every path parameter and no body.
      const url = path.replace(/\{[^}]+\}/g, 'x')
      const res = await app.inject({ method: method.toUpperCase() as InjectOptions['method'], url })
      if ((res.statusCode === 401) !== required) wrong.push(`${method} ${path}: ${res.statusCode} for an anonymous caller, but the document says ${required ? 'token required' : 'token optional'}`)
    }
    expect(wrong).toEqual([])
    expect(locked).toBeGreaterThan(30)
  })

  it('serves the page: HTML with no external URL, scripts and styles from this server, under the app’s CSP', async () => {
    for (const url of ['/api/docs', '/api/docs/']) {
      const res = await app.inject(url)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.body).toContain('<div id="swagger-ui">')
      expect(res.body.match(/(?:https?:)?\/\/[^\s"'<>]+/g) ?? [], 'external URLs in the page').toEqual([])
      // helmet's policy as app.ts sets it, not one of the docs plugin's own.
      expect(res.headers['content-security-policy']).toMatch(/(^|;)script-src 'self'(;|$)/)
      expect(res.headers['content-security-policy']).toMatch(/(^|;)connect-src 'self'(;|$)/)
      // No inline script: the policy would block it.
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
      const assets = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1], `http://localhost${url}`).pathname)
      expect(assets.length).toBeGreaterThanOrEqual(5)
      for (const asset of assets) expect((await app.inject(asset)).statusCode, asset).toBe(200)
    }
    const init = await app.inject('/api/docs/static/swagger-initializer.js')
    expect(init.body).toContain("url: resolveUrl('./json')")
    expect(init.body).toContain('validatorUrl: null') // the default would send the document to validator.swagger.io
    const yaml = await app.inject('/api/docs/yaml')
    expect(yaml.statusCode).toBe(200)
    expect(yaml.body).toMatch(/^openapi: 3\.1\.0$/m)
  })
})

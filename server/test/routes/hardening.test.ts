import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { AppInstance } from '../../src/app-types.ts'
import { testDb } from '../../../test/support/db.ts'

/** Issue #6, hardening: security headers with a CSP the map can run under, poisoned JSON and oversized bodies refused. */
describe('hardening', () => {
  let app: AppInstance
  beforeAll(async () => {
    app = await buildApp({ db: await testDb('embedded') })
    await app.ready()
  })
  afterAll(() => app.close())

  it('sends the security headers and a CSP that allows the map (blob: workers and images), nothing from elsewhere', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' })
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    const csp = Object.fromEntries(String(res.headers['content-security-policy']).split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/)
      return [name, values]
    }))
    expect(csp['default-src']).toEqual(["'self'"])
    expect(csp['script-src']).toEqual(["'self'"])
    expect(csp['worker-src']).toEqual(["'self'", 'blob:'])
    expect(csp['img-src']).toEqual(["'self'", 'data:', 'blob:'])
    expect(csp['connect-src']).toEqual(["'self'"])
    expect(csp['object-src']).toEqual(["'none'"])
  })

  it('refuses JSON bodies carrying __proto__ or constructor.prototype with 400, writing nothing', async () => {
    const count = async () => (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')).rows[0].n
    const before = await count()
    for (const payload of [
      '{"category":"sanitation.garbage","description":"x","lon":119.65,"lat":29.08,"__proto__":{"admin":true}}',
      '{"category":"sanitation.garbage","description":"x","lon":119.65,"lat":29.08,"constructor":{"prototype":{"admin":true}}}',
    ]) {
      const res = await app.inject({ method: 'POST', url: '/api/cases', headers: { 'content-type': 'application/json', 'x-actor': 'w1' }, payload })
      expect(res.statusCode, res.body).toBe(400)
    }
    expect(await count()).toBe(before)
  })

  it('refuses a body over the 1 MiB default with 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/cases',
      headers: { 'content-type': 'application/json', 'x-actor': 'w1' },
      payload: JSON.stringify({ category: 'sanitation.garbage', description: 'x'.repeat(1_100_000), lon: 119.65, lat: 29.08 }),
    })
    expect(res.statusCode).toBe(413)
  })
})

describe('shutdown', () => {
  it('close() lets a request in flight finish within the grace period, then cuts what is still open', async () => {
    const app = await buildApp({ db: await testDb('embedded'), closeGraceMs: 300 })
    let release: () => void = () => {}
    app.get('/api/test-slow', async () => {
      await new Promise<void>((r) => (release = r))
      return { done: true }
    })
    app.get('/api/test-hang', () => new Promise(() => {}))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const slow = fetch(`http://127.0.0.1:${port}/api/test-slow`).then((r) => r.json())
    const hang = fetch(`http://127.0.0.1:${port}/api/test-hang`).then(
      () => 'answered',
      () => 'cut',
    )
    await new Promise((r) => setTimeout(r, 100)) // both requests have arrived
    const closed = app.close()
    release()
    // The slow one finishes normally; the one that would never answer is cut, and close() returns.
    expect(await slow).toEqual({ done: true })
    await closed
    expect(await hang).toBe('cut')
  })
})

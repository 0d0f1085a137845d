import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts'
import { loadJwtSecret, refreshTokenHash, signAccessToken, verifyAccessToken } from '../../src/auth/tokens.ts'
import { loadConfig } from '../../src/config.ts'

const dir = mkdtempSync(join(tmpdir(), 'gc-auth-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the signing secret', () => {
  it('is generated once into the data dir with mode 0600, and read back on the next start', () => {
    const dataDir = join(dir, 'a')
    const first = loadJwtSecret({ dataDir })
    const file = join(dataDir, 'jwt-secret')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(first.length).toBeGreaterThanOrEqual(32)
    expect(Buffer.from(loadJwtSecret({ dataDir })).equals(Buffer.from(first))).toBe(true)
  })
  it('tightens a secret file others could read', () => {
    const dataDir = join(dir, 'b')
    loadJwtSecret({ dataDir })
    const file = join(dataDir, 'jwt-secret')
    chmodSync(file, 0o644)
    loadJwtSecret({ dataDir })
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })
  it('JWT_SECRET wins, and must be at least 32 bytes', () => {
    const s = 'x'.repeat(32)
    expect(new TextDecoder().decode(loadJwtSecret({ secret: s, dataDir: join(dir, 'c') }))).toBe(s)
    expect(() => loadJwtSecret({ secret: 'short', dataDir: join(dir, 'c') })).toThrow(/at least 32/)
  })
  it('config reads JWT_SECRET, AUTH_MODE (token by default) and SEED_DEMO_USERS', () => {
    expect(loadConfig({})).toMatchObject({ jwtSecret: undefined, authMode: 'token', seedDemoUsers: true })
    expect(loadConfig({ JWT_SECRET: 's', AUTH_MODE: 'token', SEED_DEMO_USERS: '0' })).toMatchObject({ jwtSecret: 's', authMode: 'token', seedDemoUsers: false })
    expect(() => loadConfig({ AUTH_MODE: 'none' })).toThrow(/AUTH_MODE/)
  })
  it('config reads the general rate limit: 1200 a minute by default, RATE_LIMIT_MAX=0 turns it off', () => {
    expect(loadConfig({}).rateLimit).toEqual({ max: 1200, windowSeconds: 60 })
    expect(loadConfig({ RATE_LIMIT_MAX: '50', RATE_LIMIT_WINDOW_S: '10' }).rateLimit).toEqual({ max: 50, windowSeconds: 10 })
    expect(loadConfig({ RATE_LIMIT_MAX: '0' }).rateLimit).toBe(false)
    expect(() => loadConfig({ RATE_LIMIT_MAX: 'lots' })).toThrow(/RATE_LIMIT_MAX/)
    expect(() => loadConfig({ RATE_LIMIT_WINDOW_S: '0' })).toThrow(/RATE_LIMIT_WINDOW_S/)
  })
})

describe('access tokens', () => {
  const secret = new Uint8Array(32).fill(7)
  const claims = { sub: '6f1c1f5e-8f57-4a0e-9d5e-2d6b1c1b7a11', sid: '0b0e5a1e-2f57-4a0e-9d5e-2d6b1c1b7a22', name: 'u', role: 'leader' as const, scope: '330702', wid: null }
  it('round-trip, and refused after exp (+5 s tolerance), before iat, or older than the lifetime whatever exp says', async () => {
    const t0 = new Date('2026-03-01T08:00:00Z')
    const token = await signAccessToken(claims, secret, t0, 900)
    expect(await verifyAccessToken(token, secret, new Date(t0.getTime() + 899_000), 900)).toEqual(claims)
    await expect(verifyAccessToken(token, secret, new Date(t0.getTime() + 906_000), 900)).rejects.toMatchObject({ reason: 'expired' })
    await expect(verifyAccessToken(token, secret, new Date(t0.getTime() - 60_000), 900)).rejects.toMatchObject({ reason: 'invalid' })
    const long = await signAccessToken(claims, secret, t0, 86_400)
    await expect(verifyAccessToken(long, secret, new Date(t0.getTime() + 3_600_000), 900)).rejects.toMatchObject({ reason: 'expired' })
  })
  it('refresh tokens are stored as SHA-256 only', () => {
    expect(refreshTokenHash('rt_abc')).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('passwords (scrypt)', () => {
  it('verify the right password only; salts differ; a malformed hash never matches', async () => {
    const a = await hashPassword('pässword')
    const b = await hashPassword('pässword')
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('pässword', a)).toBe(true)
    expect(await verifyPassword('pa\u0308ssword', a)).toBe(true) // the same text, decomposed (NFC-normalised)
    expect(await verifyPassword('password', a)).toBe(false)
    expect(await verifyPassword('pässword', 'scrypt$99999999$8$1$AAAA$BBBB')).toBe(false)
    expect(await verifyPassword('pässword', 'plain')).toBe(false)
  })
})

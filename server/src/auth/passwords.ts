import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * Password hashes: scrypt (node:crypto) with a random 16-byte salt, stored as `scrypt$N$r$p$salt$hash` (base64url),
 * so the cost can be raised later and old hashes still verify. N = 2^15, r = 8, p = 1: about 32 MiB and 50–100 ms
 * per hash, on the libuv thread pool (the event loop is not blocked).
 */
const N = 1 << 15
const R = 8
const P = 1
const KEY_LEN = 32
const SALT_LEN = 16

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, keyLen, { ...opts, maxmem: 256 * opts.N! * opts.r! }, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN)
  const key = await scrypt(password, salt, KEY_LEN, { N, r: R, p: P })
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

interface Parsed {
  N: number
  r: number
  p: number
  salt: Buffer
  key: Buffer
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const [n, r, p] = parts.slice(1, 4).map(Number)
  // Bounds keep a corrupted or hostile row from asking for gigabytes.
  if (!Number.isInteger(n) || n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0) return null
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return null
  const salt = Buffer.from(parts[4], 'base64url')
  const key = Buffer.from(parts[5], 'base64url')
  if (salt.length < 8 || key.length < 16) return null
  return { N: n, r, p, salt, key }
}

/** True when `password` matches `stored`; constant-time comparison of the derived keys. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored)
  if (!h) {
    await burnDummy(password) // the same work as a real check, so a broken row does not stand out by its timing
    return false
  }
  const key = await scrypt(password, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p })
  return timingSafeEqual(key, h.key)
}

let dummy: Promise<string> | undefined
/**
 * Verifies against a hash of a random password made once per process: an unknown username costs as much as a
 * wrong password, so the response time does not tell which usernames exist.
 */
export async function burnDummy(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'))
  const h = parse(await dummy)!
  const key = await scrypt(password, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p })
  timingSafeEqual(key, h.key)
}

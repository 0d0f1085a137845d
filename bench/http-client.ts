/**
 * Child process of bench/resolve.ts: an HTTP client apart from the server, so what is measured is the server plus
 * loopback, not the event loop of a client sharing its process.
 *
 *   argv: URL MODE COUNT SEED
 *   MODE get-fetch   COUNT sequential GET /api/regions/resolve through fetch (undici, its global keep-alive agent)
 *   MODE get-http    the same through node:http with one keep-alive socket: far less work per request in the client
 *   MODE get-raw     the same on one TCP socket, HTTP/1.1 written and read by hand (as wrk would): the least work
 *   MODE post-http   COUNT sequential POSTs of 10,000 points each (node:http, keep-alive); the answers are parsed
 *
 * Each starts with a warm-up (500 GETs, or 2 POSTs) on the same connection, so that both sides are compiled and
 * the connection is open. Prints JSON: { ms: [per request], inside: points answered with a chain }.
 */
import http from 'node:http'
import net from 'node:net'

const [url, mode, count, seedArg] = process.argv.slice(2)
let seed = Number(seedArg)
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const point = (): [number, number] => [119.3 + rand() * 0.62, 28.85 + rand() * 0.45]

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
function request(path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { agent, method: body ? 'POST' : 'GET', headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const getPath = () => {
  const [lon, lat] = point()
  return `/api/regions/resolve?lon=${lon}&lat=${lat}`
}
/** GET on one kept-alive socket, by hand: the request in one write, the response read up to its Content-Length. */
async function rawClient(): Promise<(path: string) => Promise<string>> {
  const { hostname, port, host } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let buf: Buffer = Buffer.alloc(0)
  let waiting: ((body: string) => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
    const end = buf.indexOf('\r\n\r\n')
    if (end < 0) return
    const length = Number(/content-length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1])
    if (buf.length < end + 4 + length) return
    const body = buf.subarray(end + 4, end + 4 + length).toString('utf8')
    buf = buf.subarray(end + 4 + length)
    const done = waiting
    waiting = null
    done?.(body)
  })
  return (path) =>
    new Promise((resolve) => {
      waiting = resolve
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
    })
}

const get =
  mode === 'get-fetch' ? async (path: string) => (await fetch(`${url}${path}`)).text() : mode === 'get-raw' ? await rawClient() : (path: string) => request(path)

const ms: number[] = []
let inside = 0
if (mode === 'post-http') {
  const bodies = Array.from({ length: Number(count) + 2 }, () => JSON.stringify({ points: Array.from({ length: 10_000 }, point) }))
  for (const [i, body] of bodies.entries()) {
    const t0 = performance.now()
    const { results } = JSON.parse(await request('/api/regions/resolve', body)) as { results: unknown[] }
    if (i < 2) continue
    ms.push(performance.now() - t0)
    inside += results.filter(Boolean).length
  }
} else {
  for (let i = 0; i < 500; i++) await get(getPath())
  for (let i = 0; i < Number(count); i++) {
    const path = getPath()
    const t0 = performance.now()
    if ((await get(path)).startsWith('{"regions"')) inside++
    ms.push(performance.now() - t0)
  }
}
process.stdout.write(JSON.stringify({ ms, inside }))
agent.destroy()
process.exit(0)

/**
 * Child process of bench/resolve.ts: the HTTP client for single lookups runs apart from the server, so the
 * latency measured is the server's plus loopback, not the event loop of a client sharing its process.
 * argv: URL COUNT SEED; prints a JSON array of milliseconds.
 */
export {}

const [url, count, seedArg] = process.argv.slice(2)
let seed = Number(seedArg)
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const point = (): [number, number] => [119.3 + rand() * 0.62, 28.85 + rand() * 0.45]
for (let i = 0; i < 50; i++) await (await fetch(`${url}/api/regions/resolve?lon=${point()[0]}&lat=${point()[1]}`)).arrayBuffer()
const ms: number[] = []
for (let i = 0; i < Number(count); i++) {
  const [lon, lat] = point()
  const t0 = performance.now()
  await (await fetch(`${url}/api/regions/resolve?lon=${lon}&lat=${lat}`)).arrayBuffer()
  ms.push(performance.now() - t0)
}
process.stdout.write(JSON.stringify(ms))

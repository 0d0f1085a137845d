/**
 * The reporters of bench/push-latency.ts: open-loop POST /api/cases at a fixed rate, over node:http with a pool of
 * keep-alive sockets (cheaper per request than fetch: the load generator shares the server's two cores). They run in
 * the bench's own event loop, beside the dashboards, so send and receive times are read on one clock
 * (performance.now()). (A worker thread of their own was tried: no better, see docs/BENCHMARKS.md.)
 */
import http from 'node:http'

export interface ReporterJob {
  url: string
  runId: number
  rate: number
  n: number
  maxInFlight: number
}

export interface ReporterResult {
  /** performance.now() when each report was sent (0: not sent) and when its answer had fully arrived (0: none). */
  sentAt: Float64Array
  answeredAt: Float64Array
  status: Uint16Array
  skipped: number
  sendSeconds: number
}

/** Where reports come from: see BENCH_SPOTS in push-latency.ts. */
export interface SpotSource {
  mode: 'spread' | 'clustered'
  spots: Array<[number, number]>
}

export function createReporter(source: SpotSource) {
  let seed = 12345
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  const recent: Array<[number, number]> = []
  /**
   *   spread     (default) a point in a micro-grid drawn at random for each report, and 1 report in 20 a repeat within
   *              ~10 m of one sent a moment before (a second report of the same problem);
   *   clustered  350 fixed points (50 × 7 on a 300 m × 500 m lattice) in rotation: a hotspot all run long.
   */
  function reportPoint(k: number): { lon: number; lat: number } {
    if (source.mode === 'clustered') return { lon: 119.6 + (k % 50) * 0.003, lat: 29.06 + (k % 7) * 0.005 }
    if (recent.length > 0 && rand() < 0.05) {
      const [lon, lat] = recent[Math.floor(rand() * recent.length)]
      return { lon: lon + (rand() - 0.5) * 1e-4, lat: lat + (rand() - 0.5) * 1e-4 }
    }
    const p = source.spots[Math.floor(rand() * source.spots.length)]
    recent.push(p)
    if (recent.length > 50) recent.shift()
    return { lon: p[0], lat: p[1] }
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  function post(url: string, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${url}/api/cases`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.on('data', () => {})
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  return async function report(job: ReporterJob): Promise<ReporterResult> {
    const { n, rate } = job
    const out: ReporterResult = { sentAt: new Float64Array(n), answeredAt: new Float64Array(n), status: new Uint16Array(n), skipped: 0, sendSeconds: 0 }
    const pending: Array<Promise<void>> = []
    let inFlight = 0
    const t0 = performance.now()
    let i = 0
    while (i < n) {
      const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * rate) + 1)
      for (; i < due; i++) {
        if (inFlight >= job.maxInFlight) {
          out.skipped++
          continue
        }
        const k = i
        inFlight++
        out.sentAt[k] = performance.now()
        pending.push(
          post(job.url, JSON.stringify({ category: 'sanitation', description: `bench ${job.runId} #${k}`, ...reportPoint(k) }))
            .then((status) => {
              out.status[k] = status
              out.answeredAt[k] = performance.now()
            })
            .catch(() => void (out.status[k] = 0))
            .finally(() => void inFlight--),
        )
      }
      await new Promise((res) => setTimeout(res, 1))
    }
    out.sendSeconds = (performance.now() - t0) / 1000
    await Promise.all(pending)
    return out
  }
}

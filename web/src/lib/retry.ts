/**
 * Runs `fn` until it succeeds, waiting `delayMs` (growing to `maxDelayMs`) between attempts. The wall stays open
 * for days and may come up before the server does.
 */
export async function retry<T>(fn: () => Promise<T>, opts: { delayMs?: number; maxDelayMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  let delay = opts.delayMs ?? 1000
  const max = opts.maxDelayMs ?? 15_000
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (opts.signal?.aborted) throw err
      console.warn('[gridcommand] retrying after error:', err instanceof Error ? err.message : err)
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(max, delay * 2)
    }
  }
}

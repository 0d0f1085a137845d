/** Durations for the countdown and ages: h:mm:ss (or m:ss), language-neutral. */
export function formatDuration(seconds: number): string {
  const s = Math.abs(Math.trunc(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  if (h >= 48) return `${Math.floor(h / 24)}d ${h % 24}h`
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

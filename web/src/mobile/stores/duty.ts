/**
 * On and off duty (上岗 / 下岗) for a grid worker: the status goes to POST /api/workers/:id/status, and while on duty
 * the phone takes a fix every 10 s — the rate the patrol model and the wall assume (PATROL_INTERVAL_S) — and sends
 * them in batches every 30 s to POST /api/workers/positions, each with the time it was taken. Fixes made without
 * network wait in memory (the last 360, an hour) and go with the next batch: a retried batch stores nothing twice
 * (the server keeps one fix per worker and instant).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { BatchPosition, WorkerStatus } from '../../../../shared/schemas/worker.ts'
import { getJson } from '../../api/http.ts'
import { send } from '../api/field.ts'

export const FIX_EVERY_MS = 10_000
export const SEND_EVERY_MS = 30_000
const KEEP_FIXES = 360

export const useDutyStore = defineStore('duty', () => {
  const workerId = ref<string | null>(null)
  const status = ref<WorkerStatus | null>(null)
  const busy = ref(false)
  const error = ref<string | null>(null)
  /** Fixes taken and not yet confirmed by the server. */
  const waiting = ref(0)
  const sentFixes = ref(0)
  const lastFix = ref<{ lon: number; lat: number; at: string } | null>(null)
  let buffer: BatchPosition[] = []
  let watchId: number | null = null
  let latest: GeolocationPosition | null = null
  let fixTimer: ReturnType<typeof setInterval> | undefined
  let sendTimer: ReturnType<typeof setInterval> | undefined

  async function open(id: string | null): Promise<void> {
    stopTracking()
    workerId.value = id
    status.value = null
    if (!id) return
    try {
      const w = await getJson<{ status: WorkerStatus }>(`/api/workers/${encodeURIComponent(id)}`)
      status.value = w.status
      if (w.status !== 'off_duty') startTracking()
    } catch {
      // offline: the switch shows no state until the server answers
    }
  }

  function take(): void {
    if (!latest || !workerId.value) return
    const fix: BatchPosition = {
      workerId: workerId.value,
      lon: latest.coords.longitude,
      lat: latest.coords.latitude,
      at: new Date(latest.timestamp).toISOString(),
      ...(Number.isFinite(latest.coords.accuracy) ? { accuracyM: Math.min(100_000, latest.coords.accuracy) } : {}),
      ...(status.value ? { status: status.value } : {}),
    }
    // The same fix twice (no new position from the phone in 10 s): once is enough.
    if (buffer.at(-1)?.at === fix.at) return
    buffer = [...buffer, fix].slice(-KEEP_FIXES)
    waiting.value = buffer.length
    lastFix.value = { lon: fix.lon, lat: fix.lat, at: fix.at! }
  }

  async function flush(): Promise<void> {
    if (!buffer.length) return
    const batch = buffer
    const a = await send('POST', '/api/workers/positions', { positions: batch })
    if (a.status >= 200 && a.status < 300) {
      buffer = buffer.slice(batch.length)
      sentFixes.value += batch.length
    } else if (a.status >= 400 && a.status < 500 && a.status !== 408 && a.status !== 429 && a.status !== 401) {
      // Refused (a fix outside the allowed clock, say): dropped, said once — positions are telemetry, not reports.
      buffer = buffer.slice(batch.length)
      error.value = String(a.body?.message ?? a.status)
    }
    waiting.value = buffer.length
  }

  function startTracking(): void {
    if (watchId !== null || !('geolocation' in navigator)) return
    watchId = navigator.geolocation.watchPosition(
      (p) => {
        const first = latest === null
        latest = p
        // The first fix goes at once: the dispatcher sees the worker on the map from the moment they go on duty.
        if (first) {
          take()
          void flush()
        }
      },
      (e) => (error.value = e.code === e.PERMISSION_DENIED ? 'denied' : 'unavailable'),
      { enableHighAccuracy: true, maximumAge: FIX_EVERY_MS },
    )
    fixTimer = setInterval(take, FIX_EVERY_MS)
    sendTimer = setInterval(() => void flush(), SEND_EVERY_MS)
  }

  function stopTracking(): void {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId)
    watchId = null
    latest = null
    clearInterval(fixTimer)
    clearInterval(sendTimer)
  }

  async function setStatus(next: WorkerStatus): Promise<void> {
    if (!workerId.value) return
    busy.value = true
    error.value = null
    try {
      const a = await send('POST', `/api/workers/${encodeURIComponent(workerId.value)}/status`, { status: next })
      if (a.status >= 200 && a.status < 300) {
        status.value = next
        if (next === 'off_duty') {
          take()
          await flush()
          stopTracking()
        } else startTracking()
      } else error.value = a.status === 0 ? 'offline' : String(a.body?.message ?? a.status)
    } finally {
      busy.value = false
    }
  }

  return { workerId, status, busy, error, waiting, sentFixes, lastFix, open, setStatus, flush, take, stopTracking }
})

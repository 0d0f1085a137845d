/**
 * Keeps the case sources in step with the cases store without flooding MapLibre: any number of updates within
 * one frame become one setData per source (requestAnimationFrame coalescing). Also runs the "new case" pulse:
 * an animation loop that only runs while some case is younger than NEW_CASE_WINDOW_MS.
 */
import type { Map as MapLibreMap } from 'maplibre-gl'
import type { Case } from '../../../shared/schemas/case.ts'
import { NEW_CASE_WINDOW_MS } from '../stores/cases.ts'
import { LAYER, SOURCE } from './layer-ids.ts'
import { PULSE_PERIOD_MS, pulsePaint } from './layers/case-pulse.ts'
import { caseData } from './layers/cases.ts'
import { setSourceData } from './create-map.ts'

export interface CaseSnapshot {
  cases: readonly Case[]
  /** Case id → client ms when it arrived live. */
  arrivals: ReadonlyMap<string, number>
}

export class CaseLayerController {
  private pending: CaseSnapshot | null = null
  private last: CaseSnapshot | null = null
  private flushFrame = 0
  private pulseFrame = 0
  private expiryTimer: ReturnType<typeof setTimeout> | undefined
  private newCount = 0
  private destroyed = false
  /** How many setData calls went out for the case source (debug aid; tests can read it). */
  flushes = 0

  constructor(private readonly map: MapLibreMap) {}

  /** Queues the latest state; the map gets it on the next animation frame. */
  update(snapshot: CaseSnapshot): void {
    this.pending = snapshot
    if (!this.flushFrame && !this.destroyed) this.flushFrame = requestAnimationFrame(() => this.flush())
  }

  private flush(): void {
    this.flushFrame = 0
    const snap = this.pending
    this.pending = null
    if (!snap || this.destroyed) return
    this.last = snap
    this.flushes++
    void setSourceData(this.map, SOURCE.cases, caseData(snap.cases)).catch(() => {})
    this.refreshNew()
  }

  /** Recomputes the young-case source, (re)starts or stops the pulse and schedules the next expiry. */
  private refreshNew(): void {
    if (!this.last || this.destroyed) return
    const now = Date.now()
    const young: Case[] = []
    let nextExpiry = Infinity
    for (const c of this.last.cases) {
      const at = this.last.arrivals.get(c.id)
      if (at === undefined) continue
      const left = at + NEW_CASE_WINDOW_MS - now
      if (left > 0) {
        young.push(c)
        nextExpiry = Math.min(nextExpiry, left)
      }
    }
    if (young.length !== 0 || this.newCount !== 0) void setSourceData(this.map, SOURCE.casesNew, caseData(young)).catch(() => {})
    this.newCount = young.length
    clearTimeout(this.expiryTimer)
    if (Number.isFinite(nextExpiry)) this.expiryTimer = setTimeout(() => this.refreshNew(), nextExpiry + 20)
    if (young.length && !this.pulseFrame) this.pulseFrame = requestAnimationFrame((t) => this.animate(t))
  }

  private animate(t: number): void {
    this.pulseFrame = 0
    if (this.destroyed || this.newCount === 0) return
    const p = pulsePaint((t % PULSE_PERIOD_MS) / PULSE_PERIOD_MS)
    this.map.setPaintProperty(LAYER.casePulse, 'circle-radius', p.radius)
    this.map.setPaintProperty(LAYER.casePulse, 'circle-opacity', p.opacity)
    this.map.setPaintProperty(LAYER.casePulse, 'circle-stroke-opacity', p.strokeOpacity)
    this.pulseFrame = requestAnimationFrame((t2) => this.animate(t2))
  }

  destroy(): void {
    this.destroyed = true
    cancelAnimationFrame(this.flushFrame)
    cancelAnimationFrame(this.pulseFrame)
    clearTimeout(this.expiryTimer)
  }
}

/**
 * The dispatcher's map's only hand-built DOM markers, because they take part in drag-and-drop: the selected case's
 * pin is a draggable MapLibre Marker (layers cannot be dragged), dropped on a candidate worker to assign the case;
 * the workers are the drop targets and also buttons — clicked, or focused and pressed, to assign — with their names
 * in HTML text (no glyph server for symbol text). Everything else on that map is layers (layers/dispatch-map.ts).
 * Their look is in DispatchMap.vue's global styles (`.dmap-worker`, `.dmap-pin`).
 */
import { Marker, type Map as MapLibreMap } from 'maplibre-gl'
import type { Case } from '../../../shared/schemas/case.ts'
import type { CandidateWorker } from '../../../shared/schemas/dispatch.ts'

/** A pin dropped within this many px of a worker's marker gives them the case. */
export const DROP_RADIUS_PX = 28

export interface LivePosition {
  lon: number
  lat: number
  status: string
}

export class DispatchMarkers {
  private workers: Marker[] = []
  private pin: Marker | null = null

  constructor(
    private readonly map: MapLibreMap,
    private readonly assign: (workerId: string) => void,
  ) {}

  /** The pin on `selected` (none: no pin) and a numbered marker per candidate worker with a position. */
  show(selected: Case | null, workers: readonly CandidateWorker[], pinTitle: string): void {
    this.clear()
    if (!selected) return
    for (const [i, w] of workers.entries()) {
      if (!w.position) continue
      const node = document.createElement('button')
      node.type = 'button'
      node.className = `dmap-worker dmap-worker--${w.status}${w.stale ? ' dmap-worker--stale' : ''}`
      node.dataset.testid = 'map-worker'
      node.dataset.workerId = w.id
      node.title = `${w.name} · ${Math.round(w.distanceM)} m`
      node.innerHTML = `<span class="dmap-worker__n">${i + 1}</span><span class="dmap-worker__name"></span>`
      node.querySelector('.dmap-worker__name')!.textContent = w.name
      node.addEventListener('click', (ev) => {
        ev.stopPropagation()
        this.assign(w.id)
      })
      this.workers.push(new Marker({ element: node }).setLngLat(w.position).addTo(this.map))
    }
    const pinNode = document.createElement('div')
    pinNode.className = 'dmap-pin'
    pinNode.dataset.testid = 'map-case-pin'
    pinNode.dataset.caseId = selected.id
    pinNode.title = pinTitle
    const pin = new Marker({ element: pinNode, draggable: true }).setLngLat([selected.lon, selected.lat]).addTo(this.map)
    pin.on('dragend', () => {
      // Dropped on a worker: give them the case. The pin always goes back.
      const id = this.workerNear(pin)
      pin.setLngLat([selected.lon, selected.lat])
      if (id) this.assign(id)
    })
    this.pin = pin
  }

  private workerNear(pin: Marker): string | null {
    const at = this.map.project(pin.getLngLat())
    let best: { id: string; d: number } | null = null
    for (const m of this.workers) {
      const p = this.map.project(m.getLngLat())
      const d = Math.hypot(p.x - at.x, p.y - at.y)
      if (d <= DROP_RADIUS_PX && (!best || d < best.d)) best = { id: m.getElement().dataset.workerId!, d }
    }
    return best?.id ?? null
  }

  /**
   * Moves the shown workers to their live positions (workers:moved → resources store): the dispatcher never assigns
   * from a position older than the last fix, and a worker seen live is no longer marked stale.
   */
  follow(live: ReadonlyMap<string, LivePosition>): void {
    for (const m of this.workers) {
      const node = m.getElement()
      const w = live.get(node.dataset.workerId!)
      if (!w) continue
      const { lng, lat } = m.getLngLat()
      if (lng === w.lon && lat === w.lat) continue
      m.setLngLat([w.lon, w.lat])
      node.classList.remove('dmap-worker--stale', 'dmap-worker--on_duty', 'dmap-worker--busy', 'dmap-worker--off_duty')
      node.classList.add(`dmap-worker--${w.status}`)
      node.dataset.live = 'true'
    }
  }

  private clear(): void {
    for (const m of this.workers) m.remove()
    this.workers = []
    this.pin?.remove()
    this.pin = null
  }

  destroy(): void {
    this.clear()
  }
}

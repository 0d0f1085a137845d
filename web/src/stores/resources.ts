/**
 * Workers and cameras on the wall: a snapshot over HTTP, then `workers:moved`, `worker:updated` and
 * `camera:updated` from realtime/socket.ts. Held in Maps mutated in place; `revision` tells the map to rebuild its
 * layers (coalesced per frame there), never once per event.
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { Camera } from '../../../shared/schemas/camera.ts'
import type { Worker, WorkerPositionTuple, WorkerStatus } from '../../../shared/schemas/worker.ts'
import { fetchCameras, fetchWorkers } from '../api/wall.ts'

/** What the map needs of a worker. */
export interface LiveWorker {
  id: string
  name: string
  status: WorkerStatus
  lon: number
  lat: number
}

export const useResourcesStore = defineStore('resources', () => {
  const workers = shallowRef(new Map<string, LiveWorker>())
  const cameras = shallowRef(new Map<string, Camera>())
  const workerRevision = ref(0)
  const cameraRevision = ref(0)
  const loaded = ref(false)

  function fromWorker(w: Worker): LiveWorker | null {
    return w.position ? { id: w.id, name: w.name, status: w.status, lon: w.position[0], lat: w.position[1] } : null
  }

  async function load(): Promise<void> {
    const [w, c] = await Promise.all([fetchWorkers(), fetchCameras()])
    const wm = new Map<string, LiveWorker>()
    for (const [id, name, status, lon, lat] of w.workers) wm.set(id, { id, name, status, lon, lat })
    // Moves that arrived while the snapshot was on its way are newer: keep them.
    for (const [id, held] of workers.value) wm.set(id, held)
    workers.value = wm
    cameras.value = new Map(c.cameras.map((x) => [x.id, x]))
    workerRevision.value++
    cameraRevision.value++
    loaded.value = true
  }

  function moveWorkers(positions: readonly WorkerPositionTuple[]): void {
    const m = workers.value
    for (const [id, lon, lat, , status] of positions) {
      const held = m.get(id)
      if (held) {
        held.lon = lon
        held.lat = lat
        held.status = status
      } else m.set(id, { id, name: id, status, lon, lat })
    }
    workerRevision.value++
  }

  function updateWorker(w: Worker): void {
    const lw = fromWorker(w)
    if (lw) workers.value.set(w.id, lw)
    else workers.value.delete(w.id)
    workerRevision.value++
  }

  function updateCamera(c: Camera): void {
    cameras.value.set(c.id, c)
    cameraRevision.value++
  }

  return { workers, cameras, workerRevision, cameraRevision, loaded, load, moveWorkers, updateWorker, updateCamera }
})

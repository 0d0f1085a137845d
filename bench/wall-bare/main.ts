/**
 * The bench's baseline page: the same map data as the wall (grids, micro-grid tiles, heat points, workers, cases)
 * drawn with plain layers — MapLibre + one deck.gl overlay, no Vue, no panels, no stores. bench/wall-frames.ts drives
 * it through window.__bare exactly as it drives the wall.
 */
import { HeatmapLayer } from '@deck.gl/aggregation-layers'
import { ScatterplotLayer } from '@deck.gl/layers'
import { MapboxOverlay } from '@deck.gl/mapbox'
import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import 'maplibre-gl/dist/maplibre-gl.css'

maplibregl.setWorkerUrl(workerUrl)
const map = new maplibregl.Map({
  container: 'map',
  style: { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#040a16' } }] },
  center: [119.65, 29.08],
  zoom: 12,
  attributionControl: false,
})
const overlay = new MapboxOverlay({ interleaved: false, layers: [] })
map.addControl(overlay)
let heat: number[][] = []
let workers: Array<{ lon: number; lat: number }> = []
let cases: Array<{ lon: number; lat: number }> = []
let frame = 0
function render(): void {
  frame = 0
  overlay.setProps({
    layers: [
      new HeatmapLayer({ id: 'heat', data: heat, getPosition: (d: number[]) => [d[0], d[1]], radiusPixels: 30 }),
      new ScatterplotLayer({ id: 'workers', data: workers, getPosition: (d: { lon: number; lat: number }) => [d.lon, d.lat], getFillColor: [46, 196, 160], radiusUnits: 'pixels', getRadius: 4, updateTriggers: { getPosition: Math.random() } }),
      new ScatterplotLayer({ id: 'cases', data: cases, getPosition: (d: { lon: number; lat: number }) => [d.lon, d.lat], getFillColor: [230, 159, 0], radiusUnits: 'pixels', getRadius: 6 }),
    ],
  })
}
const schedule = () => {
  if (!frame) frame = requestAnimationFrame(render)
}
map.on('load', async () => {
  const grids = await (await fetch('/api/regions?level=4')).json()
  map.addSource('grids', { type: 'geojson', data: grids })
  map.addLayer({ id: 'grids', type: 'fill', source: 'grids', paint: { 'fill-color': '#134d72', 'fill-opacity': 0.7 } })
  map.addLayer({ id: 'grid-lines', type: 'line', source: 'grids', paint: { 'line-color': '#2fb8d6', 'line-width': 1 } })
  map.addSource('micro', { type: 'vector', tiles: [`${location.origin}/tiles/microgrids/{z}/{x}/{y}.mvt`], minzoom: 12, maxzoom: 16 })
  map.addLayer({ id: 'micro', type: 'line', source: 'micro', 'source-layer': 'microgrids', paint: { 'line-color': '#6fd6ee', 'line-width': 0.6 } })
  ;(window as any).__bare.ready = true
})
;(window as any).__bare = {
  map,
  ready: false,
  setData(d: { heat: number[][]; workers: Array<{ lon: number; lat: number }> }) {
    heat = d.heat
    workers = d.workers
    schedule()
  },
  moveWorkers(moves: Array<[number, number, number]>) {
    for (const [i, lon, lat] of moves) workers[i] = { lon, lat }
    schedule()
  },
  addCase(lon: number, lat: number) {
    cases.push({ lon, lat })
    schedule()
  },
}

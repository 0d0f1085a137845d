/**
 * Creates the MapLibre map on the local dark style and installs our sources and layers once the style is in.
 * MapLibre 6 has no default export, and under Vite its worker URL must be set explicitly.
 */
import * as maplibregl from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import 'maplibre-gl/dist/maplibre-gl.css'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
import { baseStyle } from './base-style.ts'
import { bboxOf } from './geo.ts'
import { allLayers, allSources } from './layers/index.ts'
import { applyLayers } from './map-controller.ts'

/** Jinhua (金华), the demo region: where the map opens before the districts arrive. */
export const DEFAULT_CENTER: [number, number] = [119.65, 29.08]
export const DEFAULT_ZOOM = 9

let workerConfigured = false

/** Runs MapLibre's worker from `url` instead of the bundled file's URL (the field app's blob copy, map-worker.ts). */
export function setMapWorkerUrl(url: string): void {
  maplibregl.setWorkerUrl(url)
  workerConfigured = true
}

/** The bundled worker's URL (the field app copies it into a blob URL). */
export const MAP_WORKER_URL = workerUrl

/** A map on the wall's dark base style, or on `style` (the field app's light one). */
export function createMap(container: HTMLElement, style: maplibregl.StyleSpecification = baseStyle()): maplibregl.Map {
  if (!workerConfigured) {
    maplibregl.setWorkerUrl(workerUrl)
    workerConfigured = true
  }
  const map = new maplibregl.Map({
    container,
    style,
    center: DEFAULT_CENTER,
    zoom: DEFAULT_ZOOM,
    minZoom: 6,
    maxZoom: 18,
    attributionControl: false,
    maplibreLogo: false,
    dragRotate: false,
    pitchWithRotate: false,
    fadeDuration: 0,
    localIdeographFontFamily: false,
  })
  map.touchZoomRotate.disableRotation()
  return map
}

/**
 * Adds the wall's every source (empty) and layer, through the same diff as MapController (map-controller.ts): the
 * wall's data then arrives by setData (case-layer.ts, MapView.vue) and its paint by wall state (wall-layers.ts).
 * Call once, after the map's 'load' event.
 */
export function installLayers(map: maplibregl.Map): void {
  applyLayers(map, null, { sources: allSources(), layers: allLayers() })
}

/** Sets a GeoJSON source's data; resolves when MapLibre has processed it. */
export async function setSourceData(map: maplibregl.Map, sourceId: string, data: GeoJSON.GeoJSON): Promise<void> {
  const source = map.getSource<maplibregl.GeoJSONSource>(sourceId)
  if (!source) throw new Error(`no source ${sourceId}`)
  await source.setData(data)
}

/** Frames the regions; `padding` in px keeps them clear of overlays. */
export function fitToRegions(map: maplibregl.Map, fc: RegionFeatureCollection, padding: number | maplibregl.PaddingOptions = 48, animate = false): void {
  const bbox = bboxOf(fc)
  if (!bbox) return
  map.fitBounds(
    [
      [bbox[0], bbox[1]],
      [bbox[2], bbox[3]],
    ],
    { padding, animate, maxZoom: 14 },
  )
}

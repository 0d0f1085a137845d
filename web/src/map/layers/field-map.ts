/**
 * The field app's map: a light base (read in sunlight), the grids and micro-grids from the server's vector tiles
 * (the same /tiles the wall uses, kept by the service worker for offline use), and as points the case being looked at,
 * the phone's own position and, for a grid worker, today's check-ins. A pure function of its state, kept by
 * MapController like every other map; MapLibre only — no deck.gl on a phone.
 */
import type { LayerSpecification, StyleSpecification } from 'maplibre-gl'
import { FIELD_LAYER, FIELD_SOURCE } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'
import { MICROGRID_MAX_TILE_ZOOM, MICROGRID_MIN_ZOOM } from './microgrids.ts'

export const FIELD_COLORS = {
  background: '#eef1f5',
  gridFill: '#ffffff',
  gridOutline: '#3b6fd8',
  microgridOutline: '#8aa6d9',
  case: '#d93025',
  me: '#0b57d0',
  checkin: '#0a7a3f',
} as const

export interface FieldMapState {
  /** The case or the report's point. */
  target: [number, number] | null
  /** The phone's position. */
  me: [number, number] | null
  checkins: ReadonlyArray<[number, number]>
}

export function fieldBaseStyle(): StyleSpecification {
  return {
    version: 8,
    name: 'gridcommand-field',
    sources: {},
    layers: [{ id: FIELD_LAYER.background, type: 'background', paint: { 'background-color': FIELD_COLORS.background } }],
  }
}

const tiles = (collection: string, origin: string) => [`${origin}/tiles/${collection}/{z}/{x}/{y}.mvt`]

function point(kind: 'target' | 'me' | 'checkin', at: readonly [number, number]): GeoJSON.Feature<GeoJSON.Point> {
  return { type: 'Feature', properties: { kind }, geometry: { type: 'Point', coordinates: [at[0], at[1]] } }
}

export function fieldMapLayers(s: FieldMapState, origin: string = globalThis.location?.origin ?? ''): MapLayers {
  const features = [
    ...s.checkins.map((c) => point('checkin', c)),
    ...(s.me ? [point('me', s.me)] : []),
    ...(s.target ? [point('target', s.target)] : []),
  ]
  const layers: LayerSpecification[] = [
    { id: FIELD_LAYER.gridFill, type: 'fill', source: FIELD_SOURCE.grids, 'source-layer': 'grids', paint: { 'fill-color': FIELD_COLORS.gridFill, 'fill-opacity': 0.7 } },
    {
      id: FIELD_LAYER.microgridOutline,
      type: 'line',
      source: FIELD_SOURCE.microgrids,
      'source-layer': 'microgrids',
      minzoom: MICROGRID_MIN_ZOOM,
      paint: { 'line-color': FIELD_COLORS.microgridOutline, 'line-width': 1 },
    },
    {
      id: FIELD_LAYER.gridOutline,
      type: 'line',
      source: FIELD_SOURCE.grids,
      'source-layer': 'grids',
      paint: { 'line-color': FIELD_COLORS.gridOutline, 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 1, 16, 2.5] },
    },
    {
      id: FIELD_LAYER.checkins,
      type: 'circle',
      source: FIELD_SOURCE.points,
      filter: ['==', ['get', 'kind'], 'checkin'],
      paint: { 'circle-color': FIELD_COLORS.checkin, 'circle-radius': 6, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
    },
    {
      id: FIELD_LAYER.me,
      type: 'circle',
      source: FIELD_SOURCE.points,
      filter: ['==', ['get', 'kind'], 'me'],
      paint: { 'circle-color': FIELD_COLORS.me, 'circle-radius': 8, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
    },
    {
      id: FIELD_LAYER.case,
      type: 'circle',
      source: FIELD_SOURCE.points,
      filter: ['==', ['get', 'kind'], 'target'],
      paint: { 'circle-color': FIELD_COLORS.case, 'circle-radius': 10, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
    },
  ]
  return {
    sources: {
      [FIELD_SOURCE.grids]: { type: 'vector', tiles: tiles('grids', origin), minzoom: 8, maxzoom: 16 },
      [FIELD_SOURCE.microgrids]: { type: 'vector', tiles: tiles('microgrids', origin), minzoom: MICROGRID_MIN_ZOOM, maxzoom: MICROGRID_MAX_TILE_ZOOM },
      [FIELD_SOURCE.points]: { type: 'geojson', data: { type: 'FeatureCollection', features } },
    },
    layers,
  }
}

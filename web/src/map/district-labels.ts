/**
 * District names as HTML markers (there is no glyph server for symbol-layer text).
 */
import { Marker, type Map as MapLibreMap } from 'maplibre-gl'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
import { labelPoint } from './geo.ts'

export function addDistrictLabels(map: MapLibreMap, fc: RegionFeatureCollection): () => void {
  const markers: Marker[] = []
  for (const f of fc.features) {
    const at = labelPoint(f.geometry)
    if (!at) continue
    const el = document.createElement('div')
    el.className = 'gc-district-label'
    el.textContent = f.properties.name
    el.dataset.regionId = f.properties.id
    markers.push(new Marker({ element: el, anchor: 'center' }).setLngLat(at).addTo(map))
  }
  return () => markers.forEach((m) => m.remove())
}

/**
 * Pointer events on MapLibre layers, named by layer id, each returning its own undo. MapLibre skips layers that do
 * not exist yet, so these may be bound before a MapController has added the layers.
 */
import type { Map as MapLibreMap, MapLayerMouseEvent } from 'maplibre-gl'

/** A click on a feature of `layers` (topmost first) calls `onPick` with its `id` property. */
export function onFeatureClick(map: MapLibreMap, layers: string[], onPick: (id: string) => void): () => void {
  const onClick = (e: MapLayerMouseEvent) => {
    const id = e.features?.[0]?.properties?.id
    if (typeof id === 'string') onPick(id)
  }
  map.on('click', layers, onClick)
  return () => map.off('click', layers, onClick)
}

/** A pointer cursor over the features of `layers`. */
export function pointerCursor(map: MapLibreMap, layers: string[]): () => void {
  const enter = () => (map.getCanvas().style.cursor = 'pointer')
  const leave = () => (map.getCanvas().style.cursor = '')
  map.on('mouseenter', layers, enter)
  map.on('mouseleave', layers, leave)
  return () => {
    map.off('mouseenter', layers, enter)
    map.off('mouseleave', layers, leave)
  }
}

/**
 * Feature-state `hover: true` on the feature of `layer` under the pointer (its source promotes an id), and a pointer
 * cursor while there is one.
 */
export function hoverState(map: MapLibreMap, layer: string, source: string): () => void {
  let hovered: string | number | undefined
  const clear = () => {
    if (hovered !== undefined) map.setFeatureState({ source, id: hovered }, { hover: false })
    hovered = undefined
  }
  const move = (e: MapLayerMouseEvent) => {
    const id = e.features?.[0]?.id
    clear()
    hovered = id
    if (id !== undefined) map.setFeatureState({ source, id }, { hover: true })
    map.getCanvas().style.cursor = 'pointer'
  }
  const leave = () => {
    clear()
    map.getCanvas().style.cursor = ''
  }
  map.on('mousemove', layer, move)
  map.on('mouseleave', layer, leave)
  return () => {
    map.off('mousemove', layer, move)
    map.off('mouseleave', layer, leave)
  }
}

/**
 * deck.gl over a MapLibre map, as a MapController overlay: a MapboxOverlay (interleaved: false — interleaved throws
 * with MapLibre 6, see TOOLCHAIN.md) whose animation loop pauses while it has nothing to draw (deck-idle.ts). The only
 * module besides the deck layer factories that imports deck.gl: a map given no overlay never loads it.
 */
import type { Layer } from '@deck.gl/core'
import { MapboxOverlay } from '@deck.gl/mapbox'
import type { Map as MapLibreMap } from 'maplibre-gl'
import { pauseDeckWhenIdle, type DeckIdle } from './deck-idle.ts'
import type { MapOverlay } from './map-controller.ts'

export interface DeckOverlay extends MapOverlay<Layer> {
  readonly overlay: MapboxOverlay
  /** deck.gl's animation loop, paused while it has nothing to draw. */
  readonly idle: DeckIdle
}

export function createDeckOverlay(map: MapLibreMap): DeckOverlay {
  const overlay = new MapboxOverlay({ interleaved: false, layers: [] })
  map.addControl(overlay)
  const idle = pauseDeckWhenIdle(overlay, map)
  return {
    overlay,
    idle,
    setLayers(layers) {
      overlay.setProps({ layers: [...layers] })
      idle.wake()
    },
    destroy() {
      idle.destroy()
      try {
        map.removeControl(overlay)
      } catch {
        // the map is already gone
      }
      overlay.finalize()
    },
  }
}

/**
 * A map of its own (create-map.ts) kept by a MapController: created on mount in `container`, given `state()` once
 * loaded and again whenever anything `state()` reads changes, removed on unmount. A component using it only says
 * which state its map shows; the layers are the factories' (map/layers/). No deck.gl unless `overlay` brings it.
 */
import type { Map as MapLibreMap, StyleSpecification } from 'maplibre-gl'
import { onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref } from 'vue'
import { createMap } from '../map/create-map.ts'
import { MapController, type MapLayers, type MapOverlay } from '../map/map-controller.ts'

export interface MapControllerOptions<S, O> {
  layers: (state: S) => MapLayers<O>
  /** The state the map shows; read reactively (return the store's and props' objects, not copies of their contents). */
  state: () => S
  /** Makes the overlay for the map's overlay layers (map/deck-overlay.ts): only maps that draw with deck.gl pass it. */
  overlay?: (map: MapLibreMap) => MapOverlay<O>
  /** After the map loaded, before its first state: bind events, make markers. What it returns runs at unmount. */
  onLoad?: (map: MapLibreMap) => void | (() => void)
  /** The map's name on `window.__gridcommand` (debugging, browser tests). */
  debugHandle?: string
  /** Base style (default: the wall's dark one). */
  style?: StyleSpecification
}

export function useMapController<S, O = never>(container: Ref<HTMLElement | null>, opts: MapControllerOptions<S, O>) {
  const map = shallowRef<MapLibreMap | null>(null)
  /** The map loaded and shows its first state. */
  const ready = ref(false)
  let controller: MapController<S, O> | null = null
  let unbind: void | (() => void)

  onMounted(() => {
    const m = createMap(container.value!, opts.style)
    map.value = m
    if (opts.debugHandle && window.__gridcommand) window.__gridcommand[opts.debugHandle] = m
    m.on('load', () => {
      if (map.value !== m) return
      controller = new MapController(m, opts.layers, opts.overlay?.(m))
      unbind = opts.onLoad?.(m)
      controller.update(opts.state())
      controller.flush()
      ready.value = true
    })
  })

  const stop = watch(opts.state, (s) => controller?.update(s))

  onBeforeUnmount(() => {
    stop()
    unbind?.()
    controller?.destroy()
    controller = null
    map.value?.remove()
    map.value = null
  })

  return { map, ready }
}

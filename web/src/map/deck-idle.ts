import type { MapboxOverlay } from '@deck.gl/mapbox'
import type { Map as MapLibreMap } from 'maplibre-gl'

/**
 * deck.gl's animation loop asks for a frame 60 times a second even when there is nothing to draw — luma.gl's frame
 * timers and device submit run every frame (upstream visgl/deck.gl#6961). For a wall showing a still map that was
 * about 40 % of a core in Chromium, all day, on every screen. This pauses the loop once `idleFrames` frames have
 * passed without a draw and deck has nothing pending, and starts it again on anything that can need a frame:
 *   - the map moved or resized, or re-rendered with deck left dirty (the overlay follows the map's camera on
 *     'render'; a map that renders for itself, as the new-case pulse does, does not keep deck's loop going);
 *   - a pointer event on the map (deck's hover picking runs inside the loop);
 *   - new layers: the caller calls `wake()` after `overlay.setProps`;
 *   - anything else that marks deck dirty (an async prop loaded, a transition started): while paused, deck is asked
 *     every `checkMs` whether it needs a redraw or a layer update.
 * Transitions keep it running: each of their frames is a draw. The loop is never paused before deck has drawn once
 * (stopping it while its device is being created would leave deck without one).
 *
 * The loop and the dirty checks are deck's own (Deck.animationLoop, Deck.needsRedraw, LayerManager.needsUpdate), which
 * MapboxOverlay keeps private: the deck.gl version is pinned, and the wall's browser tests check that the loop pauses
 * and that the map still draws after it does.
 */
export interface DeckIdle {
  /** Something may need drawing: run the loop (no-op when it runs). */
  wake(): void
  readonly paused: boolean
  /** Times the loop was paused so far. */
  readonly pauses: number
  /** Frames deck drew so far. */
  readonly draws: number
  destroy(): void
}

interface DeckInternals {
  animationLoop: { start(): Promise<unknown>; stop(): unknown } | null
  layerManager: { needsUpdate(): string | false } | null
  needsRedraw(opts?: { clearRedrawFlags: boolean }): string | false
}

/** A camera move or resize, and the pointer events MapboxOverlay hands to deck (its picking runs in the loop). */
const WAKE_EVENTS = ['move', 'resize', 'mousedown', 'dragstart', 'drag', 'dragend', 'mousemove', 'mouseout', 'click', 'dblclick'] as const

export function pauseDeckWhenIdle(overlay: MapboxOverlay, map: MapLibreMap, opts: { idleFrames?: number; checkMs?: number } = {}): DeckIdle {
  const idleFrames = opts.idleFrames ?? 30
  const checkMs = opts.checkMs ?? 250
  const deck = () => (overlay as unknown as { _deck?: DeckInternals })._deck
  let paused = false
  let pauses = 0
  let draws = 0
  let idle = 0
  let raf = 0
  let check: ReturnType<typeof setInterval> | undefined
  let destroyed = false

  const dirty = (): boolean => {
    const d = deck()
    return !d || !!d.needsRedraw({ clearRedrawFlags: false }) || !!d.layerManager?.needsUpdate()
  }
  const watch = (): void => {
    raf = 0
    if (paused || destroyed) return
    const d = deck()
    if (++idle >= idleFrames && draws > 0 && d?.animationLoop && !dirty()) {
      d.animationLoop.stop()
      paused = true
      pauses++
      check = setInterval(() => dirty() && wake(), checkMs)
      return
    }
    raf = requestAnimationFrame(watch)
  }
  const wake = (): void => {
    idle = 0
    if (destroyed) return
    if (paused) {
      const loop = deck()?.animationLoop
      if (!loop) return
      paused = false
      clearInterval(check)
      void loop.start()
    }
    if (!raf) raf = requestAnimationFrame(watch)
  }

  // The overlay's own 'render' listener (added before this one) has handed deck the map's camera by now.
  const onRender = (): void => {
    if (paused && dirty()) wake()
  }
  overlay.setProps({ onAfterRender: () => void ((idle = 0), draws++) })
  for (const e of WAKE_EVENTS) map.on(e, wake)
  map.on('render', onRender)
  raf = requestAnimationFrame(watch)

  return {
    wake,
    get paused() {
      return paused
    },
    get pauses() {
      return pauses
    },
    get draws() {
      return draws
    },
    destroy() {
      destroyed = true
      cancelAnimationFrame(raf)
      clearInterval(check)
      for (const e of WAKE_EVENTS) map.off(e, wake)
      map.off('render', onRender)
    },
  }
}

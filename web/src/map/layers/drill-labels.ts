/**
 * Region names on the drill-down map as a deck.gl TextLayer (as the wall's street labels: there is no glyph server
 * for MapLibre symbol text; deck builds its atlas from the browser's CJK fonts). White with a dark outline.
 */
import type { Layer } from '@deck.gl/core'
import { TextLayer } from '@deck.gl/layers'
import { LABEL_FONT } from '../base-style.ts'
import type { MapLabel } from '../geo.ts'
import { DRILL_DECK_ID } from '../layer-ids.ts'
import type { MapLayers } from '../map-controller.ts'

export const DRILL_LABEL_SIZE_PX = 15
/**
 * A finer atlas than deck's default (64 px glyphs, SDF radius 12): at 15 px, dense glyphs (幢, 镇) keep the gaps
 * between their strokes instead of filling in under the outline.
 */
const LABEL_FONT_SETTINGS = { sdf: true, fontSize: 96, buffer: 6, radius: 18, smoothing: 0.15 }

export function drillLabelsLayer(labels: readonly MapLabel[]): MapLayers<Layer> {
  return {
    sources: {},
    layers: [],
    overlay: [
      new TextLayer<MapLabel>({
        id: DRILL_DECK_ID.labels,
        data: labels as MapLabel[],
        getPosition: (d) => d.at,
        getText: (d) => d.name,
        getSize: DRILL_LABEL_SIZE_PX,
        sizeUnits: 'pixels',
        getColor: [255, 255, 255, 255],
        outlineWidth: 2.5,
        outlineColor: [0, 0, 0, 200],
        fontSettings: LABEL_FONT_SETTINGS,
        characterSet: 'auto',
        fontFamily: LABEL_FONT,
        fontWeight: 500,
      }),
    ],
  }
}

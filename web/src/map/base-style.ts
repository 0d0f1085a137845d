/**
 * The local dark base style: a background and nothing remote — no tiles, no glyphs, no sprites — so the wall
 * works without internet. Our GeoJSON sources and layers are added on 'load' (see create-map.ts).
 * No symbol layers with text: there is no glyph server; labels are deck.gl TextLayers (their own atlas from browser
 * fonts) or HTML markers.
 */
import type { StyleSpecification } from 'maplibre-gl'
import { LAYER } from './layer-ids.ts'

export const MAP_COLORS = {
  background: '#040a16',
  districtFill: '#0a2540',
  districtOutline: '#3ff3ff',
  districtGlow: '#00e5ff',
  gridFillLow: '#0b2744',
  gridFillHigh: '#134d72',
  gridOutline: '#2fb8d6',
  gridHover: '#ffffff',
  caseStroke: '#ffffff',
} as const

/** Map labels (deck.gl TextLayer): the system CJK fonts, no web font. */
export const LABEL_FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'

export function baseStyle(): StyleSpecification {
  return {
    version: 8,
    name: 'gridcommand-dark',
    sources: {},
    layers: [
      {
        id: LAYER.background,
        type: 'background',
        paint: { 'background-color': MAP_COLORS.background },
      },
    ],
  }
}

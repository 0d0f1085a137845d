/**
 * Everything the drill-down map draws, from its state: siblings, the current region, its children (MapLibre) and
 * the names (deck.gl) — of the children, or at a micro-grid (no children) the current region's own.
 */
import type { Layer } from '@deck.gl/core'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { EMPTY_FC } from '../../lib/geojson.ts'
import { labelsOf } from '../geo.ts'
import { DRILL_LAYER_ORDER } from '../layer-ids.ts'
import { combineLayers, type MapLayers } from '../map-controller.ts'
import { drillCheckinsLayer } from './drill-checkins.ts'
import { drillLabelsLayer } from './drill-labels.ts'
import { drillChildrenLayer, drillCurrentLayer, drillSiblingsLayer } from './drill-regions.ts'

export interface DrillMapState {
  /** The region shown (null: the root, the districts are the children). */
  currentId: string | null
  children: RegionFeatureCollection
  /** The current region's level under its parent, the current region among them. */
  siblings: RegionFeatureCollection
  /** Visit check-ins under the region (GeoJSON points of GET /api/checkins); empty when none or not in reach. */
  checkins?: GeoJSON.FeatureCollection
}

export function drillMapLayers(s: DrillMapState): MapLayers<Layer> {
  const current = s.siblings.features.filter((f) => f.properties.id === s.currentId)
  const others = s.siblings.features.filter((f) => f.properties.id !== s.currentId)
  const named = s.children.features.length ? s.children.features : current
  return combineLayers<Layer>([drillSiblingsLayer(others), drillCurrentLayer(current), drillChildrenLayer(s.children.features), drillCheckinsLayer(s.checkins ?? EMPTY_FC), drillLabelsLayer(labelsOf(named))], DRILL_LAYER_ORDER)
}

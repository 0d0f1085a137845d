/**
 * All sources and layers of the map, assembled from the per-layer factories in LAYER_ORDER.
 */
import type { LayerSpecification, SourceSpecification } from 'maplibre-gl'
import { LAYER_ORDER, SOURCE, type SourceId } from '../layer-ids.ts'
import { casePulseLayers, casePulseSource } from './case-pulse.ts'
import { boundaryLayers, communitySource, streetSource } from './boundaries.ts'
import { caseLayers, caseSource } from './cases.ts'
import { districtLayers, districtSource } from './districts.ts'
import { gridChoroplethLayers, gridLayers, gridSource } from './grids.ts'
import { microgridLayers, microgridSource } from './microgrids.ts'
import { scopeLayers, scopeSource } from './scope.ts'

export function allSources(): Record<SourceId, SourceSpecification> {
  return {
    [SOURCE.districts]: districtSource(),
    [SOURCE.grids]: gridSource(),
    [SOURCE.microgrids]: microgridSource(),
    [SOURCE.cases]: caseSource(),
    [SOURCE.casesNew]: casePulseSource(),
    [SOURCE.scope]: scopeSource(),
    [SOURCE.streets]: streetSource(),
    [SOURCE.communities]: communitySource(),
  }
}

/** Our data layers, bottom to top (the background is in the base style). */
export function allLayers(): LayerSpecification[] {
  const layers = [...districtLayers(), ...gridLayers(), ...gridChoroplethLayers(), ...boundaryLayers(), ...microgridLayers(), ...scopeLayers(), ...casePulseLayers(), ...caseLayers()]
  const rank = (l: LayerSpecification) => {
    const i = LAYER_ORDER.indexOf(l.id as (typeof LAYER_ORDER)[number])
    return i < 0 ? LAYER_ORDER.length : i
  }
  return layers.sort((a, b) => rank(a) - rank(b))
}

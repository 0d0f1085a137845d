/**
 * Everything the dispatcher's map draws as layers, from its state: micro-grids (the wall's factory), grid outlines,
 * the camera radius, the queue's cases, the cameras. Bottom to top. The case pin and the candidate workers are DOM
 * markers (map/dispatch-markers.ts: they take part in drag-and-drop).
 */
import type { Case } from '../../../../shared/schemas/case.ts'
import type { Candidates } from '../../../../shared/schemas/dispatch.ts'
import type { RegionFeatureCollection } from '../../../../shared/schemas/region.ts'
import { combineLayers, type MapLayers } from '../map-controller.ts'
import { dispatchCamerasLayer } from './dispatch-cameras.ts'
import { dispatchCasesLayer } from './dispatch-cases.ts'
import { dispatchGridsLayer } from './dispatch-grids.ts'
import { dispatchRadiusLayer } from './dispatch-radius.ts'
import { microgridsLayer } from './microgrids.ts'

export interface DispatchMapState {
  grids: RegionFeatureCollection | null
  cases: readonly Case[]
  selected: Case | null
  /** The last candidates loaded: shown only while they are the selected case's. */
  candidates: Candidates | null
}

/** The selected case's candidates, or null (none selected, or those of the case selected before are still shown). */
export function selectedCandidates(selected: Case | null, candidates: Candidates | null): Candidates | null {
  return selected && candidates?.caseId === selected.id ? candidates : null
}

export function dispatchMapLayers(s: DispatchMapState): MapLayers {
  const k = selectedCandidates(s.selected, s.candidates)
  return combineLayers([
    microgridsLayer(),
    dispatchGridsLayer(s.grids),
    dispatchRadiusLayer(s.selected && k ? [s.selected.lon, s.selected.lat] : null, k?.radiusM ?? 0),
    dispatchCasesLayer(s.cases, s.selected?.id ?? null),
    dispatchCamerasLayer(k?.cameras ?? []),
  ])
}

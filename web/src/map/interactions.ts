/**
 * Pointer interactions on the map: hovering a grid shows a small tooltip with its name (and outlines it);
 * clicking a case opens a popup with its details. `dispose()` removes everything it added.
 */
import { Popup, type Map as MapLibreMap, type MapLayerMouseEvent } from 'maplibre-gl'
import type { Case } from '../../../shared/schemas/case.ts'
import { LAYER } from './layer-ids.ts'
import { gridHoverFilter } from './layers/grids.ts'
import { casePopupContent } from './popups.ts'

export interface InteractionDeps {
  getCase(id: string): Case | undefined
}

export interface Interactions {
  /** Opens the popup of one case (click on the map, or a pick from the list). */
  openCase(c: Case): void
  /** Closes the case popup if one is open (e.g. when the locale changes). */
  closePopup(): void
  dispose(): void
}

export function bindInteractions(map: MapLibreMap, deps: InteractionDeps): Interactions {
  const container = map.getContainer()
  const tooltip = document.createElement('div')
  tooltip.className = 'gc-grid-tooltip'
  tooltip.dataset.testid = 'grid-tooltip'
  tooltip.hidden = true
  container.append(tooltip)

  let hoveredGrid: string | null = null
  let popup: Popup | null = null

  const onGridMove = (e: MapLayerMouseEvent) => {
    const f = e.features?.[0]
    const id = (f?.properties?.id as string | undefined) ?? null
    const label = (f?.properties?.name as string | undefined) ?? ''
    if (id !== hoveredGrid) {
      hoveredGrid = id
      map.setFilter(LAYER.gridHover, gridHoverFilter(id))
    }
    tooltip.textContent = label
    tooltip.hidden = !label
    tooltip.style.left = `${e.point.x}px`
    tooltip.style.top = `${e.point.y}px`
  }
  const onGridLeave = () => {
    hoveredGrid = null
    map.setFilter(LAYER.gridHover, gridHoverFilter(null))
    tooltip.hidden = true
  }

  const openCase = (c: Case) => {
    popup?.remove()
    popup = new Popup({ className: 'gc-popup', maxWidth: 'none', offset: 14, focusAfterOpen: false })
      .setLngLat([c.lon, c.lat])
      .setDOMContent(casePopupContent(c))
      .addTo(map)
  }
  const onCaseClick = (e: MapLayerMouseEvent) => {
    const id = e.features?.[0]?.properties?.id as string | undefined
    const c = id ? deps.getCase(id) : undefined
    if (c) openCase(c)
  }
  const onCaseEnter = () => (map.getCanvas().style.cursor = 'pointer')
  const onCaseLeave = () => (map.getCanvas().style.cursor = '')

  map.on('mousemove', LAYER.gridFill, onGridMove)
  map.on('mouseleave', LAYER.gridFill, onGridLeave)
  map.on('click', LAYER.caseCircle, onCaseClick)
  map.on('mouseenter', LAYER.caseCircle, onCaseEnter)
  map.on('mouseleave', LAYER.caseCircle, onCaseLeave)

  return {
    openCase,
    closePopup() {
      popup?.remove()
      popup = null
    },
    dispose() {
      map.off('mousemove', LAYER.gridFill, onGridMove)
      map.off('mouseleave', LAYER.gridFill, onGridLeave)
      map.off('click', LAYER.caseCircle, onCaseClick)
      map.off('mouseenter', LAYER.caseCircle, onCaseEnter)
      map.off('mouseleave', LAYER.caseCircle, onCaseLeave)
      popup?.remove()
      tooltip.remove()
    },
  }
}

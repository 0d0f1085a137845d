/**
 * The layout's design unit as a number (CSS px per 1920×1080 design px, the same rule as theme.css --u), reactive on
 * resize: chart fonts and map dot sizes follow it, so canvases re-lay out instead of being stretched.
 */
import { readonly, ref } from 'vue'

const unit = ref(compute())
function compute(): number {
  if (typeof window === 'undefined') return 1
  return Math.min(window.innerWidth / 1920, window.innerHeight / 1080)
}
if (typeof window !== 'undefined') window.addEventListener('resize', () => (unit.value = compute()))

export function useScale() {
  return readonly(unit)
}

/** A font size in CSS px for `design` px at 1080p, never under 14 px. */
export const fontPx = (design: number, u: number) => Math.max(14, Math.round(design * u))

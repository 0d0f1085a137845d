import { CELL_OUTSIDE, type CellIndex } from './cell-index.ts'

// Reading the cell index (cell-index.ts): the row by latitude, then one binary search in the row's runs.

/** The value of the cell holding (lon, lat): a rank ≥ 0, CELL_OUTSIDE or CELL_BOUNDARY. */
export function cellLookup(index: CellIndex, lon: number, lat: number): number {
  const scale = 2 ** index.level
  const j = Math.floor((lat - index.y0) * scale)
  if (!(j >= 0 && j < index.rows)) return CELL_OUTSIDE
  const i = Math.floor((lon - index.x0) * scale)
  let lo = index.rowStart[j]
  let hi = index.rowStart[j + 1] - 1
  const starts = index.runStart
  // Last run starting at or before i.
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (starts[mid] <= i) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found < 0 ? CELL_OUTSIDE : index.runValue[found]
}

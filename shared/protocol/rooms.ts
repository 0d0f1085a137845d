/** Socket.IO room names: the only place they are spelled. */
import type { Scope } from './events.ts'

export const WALL_ROOM = 'wall'
export const regionRoom = (regionId: string): string => `region:${regionId}`

/** A region id as it appears in rooms and ltree paths. */
export const REGION_ID_RE = /^[A-Za-z0-9_]{1,64}$/
/** At most this many regions in one scope. */
export const MAX_SCOPE_REGIONS = 64

/** The rooms a socket with this scope is in. */
export function scopeRooms(scope: Scope): string[] {
  return 'all' in scope ? [WALL_ROOM] : [...new Set(scope.regions)].sort().map(regionRoom)
}

/**
 * Whether an event with this region path (ltree of region ids, district … finest; null = global, e.g. a boundary
 * import) belongs to the scope: the wall takes everything, a region scope what lies under any of its regions.
 */
export function inScope(scope: Scope, regionPath: string | null): boolean {
  if ('all' in scope || regionPath === null) return true
  const labels = regionPath.split('.')
  return scope.regions.some((r) => labels.includes(r))
}

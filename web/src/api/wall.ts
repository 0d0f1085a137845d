/**
 * The wall's HTTP calls (issue #7): statistics for the panels, the heatmap points, workers and cameras, and the
 * street / community boundaries. Same origin, through apiFetch (the token when signed in). Stores call these.
 */
import type { CameraList } from '../../../shared/schemas/camera.ts'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
import type { Heat, HeatWindow, Hourly, LoopStats, Overview, Ranking, RankingBy } from '../../../shared/schemas/stats.ts'
import type { LiveWorkerList } from '../../../shared/schemas/worker.ts'
import { fetchRegions, getJson } from './http.ts'

const q = (params: Record<string, string | number | undefined | null>) => {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v))
  const text = s.toString()
  return text ? `?${text}` : ''
}

/** The cases a statistics call is about (every route takes all three; absent: no narrowing). */
export interface StatsFilter {
  region?: string | null
  category?: string | null
  department?: string | null
}

export const fetchOverview = (f: StatsFilter = {}) => getJson<Overview>(`/api/stats/overview${q({ ...f })}`)
export const fetchLoopByDay = (f: StatsFilter = {}) => getJson<LoopStats>(`/api/stats/loop${q({ ...f, groupBy: 'day' })}`)
export const fetchHourly = (f: StatsFilter = {}) => getJson<Hourly>(`/api/stats/hourly${q({ ...f })}`)
export const fetchRanking = (by: RankingBy, f: StatsFilter = {}) => getJson<Ranking>(`/api/stats/ranking${q({ by, ...f })}`)
export const fetchHeat = (window: HeatWindow, f: StatsFilter = {}, limit = 100_000) => getJson<Heat>(`/api/stats/heat${q({ window, ...f, limit })}`)
/** Who is where, for the map: [id, name, status, lon, lat] of every worker with a live position in reach. */
export const fetchWorkers = () => getJson<LiveWorkerList>('/api/workers/live')
export const fetchCameras = () => getJson<CameraList>('/api/cameras?limit=20000')
export const fetchStreets = (): Promise<RegionFeatureCollection> => fetchRegions(2)
export const fetchCommunities = (): Promise<RegionFeatureCollection> => fetchRegions(3)

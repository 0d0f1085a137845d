/**
 * The wall's HTTP calls (issue #7): statistics for the panels, the heatmap points, workers and cameras, and the
 * street / community boundaries. Same origin, through apiFetch (the token when signed in). Stores call these.
 */
import type { CameraList } from '../../../shared/schemas/camera.ts'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
import type { Heat, HeatWindow, Hourly, LoopStats, Overview, Ranking, RankingBy } from '../../../shared/schemas/stats.ts'
import type { WorkerList } from '../../../shared/schemas/worker.ts'
import { fetchRegions, getJson } from './http.ts'

const q = (params: Record<string, string | number | undefined | null>) => {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v))
  const text = s.toString()
  return text ? `?${text}` : ''
}

export const fetchOverview = (region?: string | null) => getJson<Overview>(`/api/stats/overview${q({ region })}`)
export const fetchLoopByDay = (region?: string | null) => getJson<LoopStats>(`/api/stats/loop${q({ region, groupBy: 'day' })}`)
export const fetchHourly = (region?: string | null) => getJson<Hourly>(`/api/stats/hourly${q({ region })}`)
export const fetchRanking = (by: RankingBy, region?: string | null) => getJson<Ranking>(`/api/stats/ranking${q({ by, region })}`)
export const fetchHeat = (window: HeatWindow, region?: string | null, limit = 100_000) => getJson<Heat>(`/api/stats/heat${q({ window, region, limit })}`)
export const fetchWorkers = () => getJson<WorkerList>('/api/workers?limit=20000')
export const fetchCameras = () => getJson<CameraList>('/api/cameras?limit=20000')
export const fetchStreets = (): Promise<RegionFeatureCollection> => fetchRegions(2)
export const fetchCommunities = (): Promise<RegionFeatureCollection> => fetchRegions(3)

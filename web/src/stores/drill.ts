/**
 * The drill-down (issue #8): the region the URL names, its profile (GET /api/regions/:id), its children (what a
 * click enters) and its siblings (drawn dimmed). No region: the districts (the root).
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { RegionLevel } from '../../../shared/domain/levels.ts'
import type { Checkin } from '../../../shared/schemas/checkin.ts'
import type { RegionFeatureCollection, RegionProfile } from '../../../shared/schemas/region.ts'
import { fetchRegionProfile, fetchRegions, getJson } from '../api/http.ts'
import { EMPTY_FC } from '../lib/geojson.ts'


export const useDrillStore = defineStore('drill', () => {
  const regionId = ref<string | null>(null)
  const profile = shallowRef<RegionProfile | null>(null)
  const children = shallowRef<RegionFeatureCollection>(EMPTY_FC)
  const siblings = shallowRef<RegionFeatureCollection>(EMPTY_FC)
  /** The last 7 days of visit check-ins under the region, for staff who reach it (else none). */
  const checkins = shallowRef<GeoJSON.FeatureCollection>(EMPTY_FC as GeoJSON.FeatureCollection)
  const loading = ref(false)
  const error = ref<string | null>(null)
  let token = 0

  async function load(id: string | null): Promise<void> {
    const mine = ++token
    regionId.value = id
    loading.value = true
    error.value = null
    try {
      if (!id) {
        const districts = await fetchRegions(1)
        if (mine !== token) return
        profile.value = null
        children.value = districts
        siblings.value = EMPTY_FC
        return
      }
      const p = await fetchRegionProfile(id)
      if (mine !== token) return
      const [kids, sibs] = await Promise.all([
        p.level < 5 ? fetchRegions((p.level + 1) as RegionLevel, undefined, p.id) : Promise.resolve(EMPTY_FC),
        fetchRegions(p.level as RegionLevel, undefined, p.parentId),
      ])
      if (mine !== token) return
      profile.value = p
      children.value = kids
      siblings.value = sibs
      void loadCheckins(p.id, mine)
    } catch (err) {
      if (mine === token) {
        error.value = err instanceof Error ? err.message : String(err)
        profile.value = null
        children.value = EMPTY_FC
        siblings.value = EMPTY_FC
      }
    } finally {
      if (mine === token) loading.value = false
    }
  }

  async function loadCheckins(id: string, mine = token): Promise<void> {
    const from = new Date(Date.now() - 7 * 86400_000).toISOString()
    try {
      const fc = await getJson<GeoJSON.FeatureCollection>(`/api/checkins?region=${encodeURIComponent(id)}&from=${encodeURIComponent(from)}&limit=5000`)
      if (mine === token) checkins.value = fc
    } catch {
      if (mine === token) checkins.value = EMPTY_FC as GeoJSON.FeatureCollection // residents, callers out of reach
    }
  }

  /** A check-in made just now (the live stream): shown at once when it lies under the region shown. */
  function addCheckin(c: Checkin): void {
    const id = regionId.value
    if (!id || !c.regions.some((r) => r.id === id) || checkins.value.features.some((f) => f.id === c.id)) return
    const feature: GeoJSON.Feature = {
      type: 'Feature',
      id: c.id,
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
      properties: { id: c.id, workerId: c.workerId, workerName: c.workerName, kind: c.kind, at: c.at, madeAt: c.madeAt, address: c.address, note: c.note, photoCount: c.photos.length },
    }
    checkins.value = { type: 'FeatureCollection', features: [...checkins.value.features, feature] }
  }

  return { regionId, profile, children, siblings, checkins, loading, error, load, addCheckin }
})

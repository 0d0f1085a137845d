/**
 * The drill-down (issue #8): the region the URL names, its profile (GET /api/regions/:id), its children (what a
 * click enters) and its siblings (drawn dimmed). No region: the districts (the root).
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { RegionLevel } from '../../../shared/domain/levels.ts'
import type { RegionFeatureCollection, RegionProfile } from '../../../shared/schemas/region.ts'
import { fetchRegionProfile, fetchRegions } from '../api/http.ts'
import { EMPTY_FC } from '../lib/geojson.ts'


export const useDrillStore = defineStore('drill', () => {
  const regionId = ref<string | null>(null)
  const profile = shallowRef<RegionProfile | null>(null)
  const children = shallowRef<RegionFeatureCollection>(EMPTY_FC)
  const siblings = shallowRef<RegionFeatureCollection>(EMPTY_FC)
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

  return { regionId, profile, children, siblings, loading, error, load }
})

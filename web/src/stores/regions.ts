/**
 * Region geometry for the map: districts (level 1) and grids (level 4) as GeoJSON FeatureCollections, plus a
 * lookup by id for names. Loaded once; region boundaries do not change while the wall runs.
 */
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { RegionFeatureCollection, RegionProfile, RegionProperties } from '../../../shared/schemas/region.ts'
import type { RegionLevel } from '../../../shared/domain/levels.ts'
import { fetchRegionProfile, fetchRegions } from '../api/http.ts'

export const useRegionsStore = defineStore('regions', () => {
  const districts = shallowRef<RegionFeatureCollection | null>(null)
  const grids = shallowRef<RegionFeatureCollection | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const byId = computed(() => {
    const m = new Map<string, RegionProperties>()
    for (const fc of [districts.value, grids.value]) for (const f of fc?.features ?? []) m.set(f.properties.id, f.properties)
    return m
  })
  const loaded = computed(() => districts.value !== null && grids.value !== null)

  async function load(): Promise<void> {
    loading.value = true
    try {
      const [d, g] = await Promise.all([fetchRegions(1), fetchRegions(4)])
      districts.value = d
      grids.value = g
      error.value = null
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      throw err
    } finally {
      loading.value = false
    }
  }

  /**
   * Sequence number of the last boundary import seen (0: none). Tile layers put it in their URLs, so the browser
   * fetches fresh tiles instead of the cached ones.
   */
  const boundaryVersion = ref(0)

  /** Boundaries changed on the server (a `regions:imported` event): fetch them again. */
  async function reloadAfterImport(seq: number): Promise<void> {
    boundaryVersion.value = seq
    await load()
  }

  /**
   * The signed-in user's jurisdiction (GET /api/regions/:id: name, bbox, center…), which the map frames; null when
   * signed out or when the user's scope is everything.
   */
  const scope = shallowRef<RegionProfile | null>(null)
  /** Its boundary (one feature), which the map outlines. */
  const scopeShape = shallowRef<RegionFeatureCollection | null>(null)
  let scopeToken = 0

  /** Loads the profile of the user's scope region (null: none). The latest call wins. */
  async function loadScope(regionId: string | null): Promise<void> {
    const token = ++scopeToken
    if (!regionId) {
      scope.value = null
      scopeShape.value = null
      return
    }
    const profile = await fetchRegionProfile(regionId)
    if (token !== scopeToken) return
    scope.value = profile
    // The boundary: the region among its siblings (the regions API lists a level under a parent).
    const siblings = await fetchRegions(profile.level as RegionLevel, undefined, profile.parentId)
    if (token !== scopeToken) return
    scopeShape.value = { ...siblings, features: siblings.features.filter((f) => f.properties.id === regionId) }
  }

  return { districts, grids, loading, error, byId, loaded, load, boundaryVersion, reloadAfterImport, scope, scopeShape, loadScope }
})

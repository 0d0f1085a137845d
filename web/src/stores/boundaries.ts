/** Street (level 2) and community (level 3) boundaries for the wall's boundary layer, labels and tour. Loaded once. */
import { defineStore } from 'pinia'
import { computed, shallowRef } from 'vue'
import type { RegionFeatureCollection } from '../../../shared/schemas/region.ts'
import { fetchCommunities, fetchStreets } from '../api/wall.ts'
import { bboxOf } from '../map/geo.ts'

export const useBoundariesStore = defineStore('boundaries', () => {
  const streets = shallowRef<RegionFeatureCollection | null>(null)
  const communities = shallowRef<RegionFeatureCollection | null>(null)

  async function load(): Promise<void> {
    const [s, c] = await Promise.all([fetchStreets(), fetchCommunities()])
    streets.value = s
    communities.value = c
  }

  /** Street id → name and bbox (the tour flies through these, the ranking names them). */
  const streetInfo = computed(() => {
    const m = new Map<string, { name: string; bbox: [number, number, number, number] | null }>()
    for (const f of streets.value?.features ?? []) m.set(f.properties.id, { name: f.properties.name, bbox: bboxOf({ ...streets.value!, features: [f] }) })
    return m
  })

  return { streets, communities, streetInfo, load }
})

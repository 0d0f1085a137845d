/**
 * The empty FeatureCollection: one frozen instance for every empty map source and region list. Typed with
 * `never[]` features, so it stands for any FeatureCollection type and nothing can be pushed into it.
 */
export const EMPTY_FC: { readonly type: 'FeatureCollection'; readonly features: never[] } = Object.freeze({
  type: 'FeatureCollection',
  features: Object.freeze([]) as unknown as never[],
})

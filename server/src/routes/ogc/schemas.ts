/** Response and request schemas of OGC API – Features Part 1 (OGC 17-069r4), the parts this server serves. */
import { Type, type Static } from 'typebox'

export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'

/** The server's one error shape, { error, message, field? } (shared/schemas/common.ts). */
export { ErrorSchema } from '../../../../shared/schemas/common.ts'

export const LinkSchema = Type.Object({
  href: Type.String(),
  rel: Type.String(),
  type: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
})
export type Link = Static<typeof LinkSchema>

export const LandingPageSchema = Type.Object({
  title: Type.String(),
  description: Type.String(),
  links: Type.Array(LinkSchema),
})

export const ConformanceSchema = Type.Object({ conformsTo: Type.Array(Type.String()) })

export const CollectionSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  itemType: Type.Literal('feature'),
  crs: Type.Array(Type.String()),
  /** Absent while the collection is empty. */
  extent: Type.Optional(
    Type.Object({
      spatial: Type.Object({ bbox: Type.Array(Type.Array(Type.Number(), { minItems: 4, maxItems: 4 })), crs: Type.String() }),
    }),
  ),
  links: Type.Array(LinkSchema),
})
export type Collection = Static<typeof CollectionSchema>

export const CollectionsSchema = Type.Object({ links: Type.Array(LinkSchema), collections: Type.Array(CollectionSchema) })

/** Sent as text built around the features PostGIS serialises. */
export const GeoJsonTextSchema = Type.Unsafe<unknown>({ type: 'string', description: 'GeoJSON (RFC 7946)' })

/** The OpenAPI document is built as a plain object; its shape is the OpenAPI 3.0 schema's business. */
export const OpenApiSchema = Type.Unsafe<unknown>({ type: 'object', additionalProperties: true })

/** `f=json`; anything else (html, xml) is not served. Accept is honoured when f is absent. */
export const FormatParam = Type.Optional(Type.Enum(['json'], { description: 'response format; otherwise from Accept' }))
export const ItemsFormatParam = Type.Optional(Type.Enum(['json', 'geojson'], { description: 'response format; otherwise from Accept' }))

export const CollectionParams = Type.Object({ collectionId: Type.String({ maxLength: 64 }) })
export const FeatureParams = Type.Object({ collectionId: Type.String({ maxLength: 64 }), featureId: Type.String({ maxLength: 128 }) })

export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 10_000

export const ItemsQuery = Type.Object(
  {
    f: ItemsFormatParam,
    // Validated by hand (parseBbox) so the 400 can say what a bbox looks like.
    bbox: Type.Optional(Type.String({ maxLength: 400, description: 'minLon,minLat,maxLon,maxLat in CRS84' })),
    // Above MAX_LIMIT the page is cut to MAX_LIMIT (OGC 17-069r4 /req/core/fc-limit-response-1), not refused.
    limit: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
)

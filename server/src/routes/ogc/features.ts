import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { AppInstance } from '../../app-types.ts'
import { COLLECTIONS, collectionById, collectionExtents, featureById, featurePage, type Bbox, type CollectionDef } from '../../repos/features.ts'
import { HttpError } from '../../services/http-error.ts'
import { openApiDocument } from './openapi.ts'
import { baseUrl, negotiate, parseBbox } from './request.ts'
import {
  CRS84,
  CollectionParams,
  CollectionSchema,
  CollectionsSchema,
  ConformanceSchema,
  DEFAULT_LIMIT,
  ErrorSchema,
  FeatureParams,
  FormatParam,
  GeoJsonTextSchema,
  ItemsFormatParam,
  ItemsQuery,
  LandingPageSchema,
  MAX_LIMIT,
  OpenApiSchema,
  type Collection,
  type Link,
} from './schemas.ts'

const JSON_TYPE = 'application/json'
const GEOJSON_TYPE = 'application/geo+json'
const OPENAPI_TYPE = 'application/vnd.oai.openapi+json'

const CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
]

const errors = { 400: ErrorSchema, 404: ErrorSchema, 406: ErrorSchema }
const MetaQuery = Type.Object({ f: FormatParam }, { additionalProperties: false })

/** `f=json` answers JSON whatever Accept says; without f, Accept chooses among `offers`. */
function format(req: Pick<FastifyRequest, 'headers' | 'query'>, offers: readonly string[]): string {
  return (req.query as { f?: string }).f ? offers[0] : negotiate(req, offers)
}

function sendJson(reply: FastifyReply, type: string, body: unknown) {
  return reply.type(`${type}; charset=utf-8`).send(body)
}

function requireCollection(id: string): CollectionDef {
  const def = collectionById(id)
  if (!def) throw new HttpError(404, 'not_found', `no collection "${id}"; collections: ${COLLECTIONS.map((c) => c.id).join(', ')}`)
  return def
}

function describeCollection(root: string, def: CollectionDef, bbox: Bbox | undefined): Collection {
  return {
    id: def.id,
    title: def.title,
    description: def.description,
    itemType: 'feature',
    crs: [CRS84],
    ...(bbox ? { extent: { spatial: { bbox: [bbox], crs: CRS84 } } } : {}),
    links: [
      { href: `${root}/collections/${def.id}`, rel: 'self', type: JSON_TYPE, title: def.title },
      { href: `${root}/collections/${def.id}/items`, rel: 'items', type: GEOJSON_TYPE, title: `${def.title} as GeoJSON` },
    ],
  }
}

/**
 * OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0) under /ogc: GIS clients (QGIS, GDAL's OAPIF driver, ArcGIS)
 * read the regions and cameras from here. Every link is absolute and honours X-Forwarded-Proto/Host.
 */
export default async function ogcFeatureRoutes(app: AppInstance) {
  const landing = {
    schema: { querystring: MetaQuery, response: { 200: LandingPageSchema, ...errors } },
  }
  const landingHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const type = format(req, [JSON_TYPE])
    const root = `${baseUrl(req)}/ogc`
    const links: Link[] = [
      { href: root, rel: 'self', type: JSON_TYPE, title: 'this document' },
      { href: `${root}/api`, rel: 'service-desc', type: `${OPENAPI_TYPE};version=3.0`, title: 'the API definition' },
      { href: `${root}/conformance`, rel: 'conformance', type: JSON_TYPE, title: 'conformance classes' },
      { href: `${root}/collections`, rel: 'data', type: JSON_TYPE, title: 'feature collections' },
    ]
    return sendJson(reply, type, {
      title: 'GridCommand OGC API – Features',
      description: 'Regions of the grid hierarchy (district, street, community, grid, micro-grid) and cameras.',
      links,
    })
  }
  app.get('/ogc', landing, landingHandler)
  app.get('/ogc/', landing, landingHandler)

  app.get('/ogc/api', { schema: { querystring: MetaQuery, response: { 200: OpenApiSchema, ...errors } } }, async (req, reply) => {
    const type = format(req, [OPENAPI_TYPE, JSON_TYPE])
    return sendJson(reply, type === OPENAPI_TYPE ? `${OPENAPI_TYPE};version=3.0` : type, openApiDocument(`${baseUrl(req)}/ogc`))
  })

  app.get('/ogc/conformance', { schema: { querystring: MetaQuery, response: { 200: ConformanceSchema, ...errors } } }, async (req, reply) => {
    return sendJson(reply, format(req, [JSON_TYPE]), { conformsTo: CONFORMANCE })
  })

  app.get('/ogc/collections', { schema: { querystring: MetaQuery, response: { 200: CollectionsSchema, ...errors } } }, async (req, reply) => {
    const type = format(req, [JSON_TYPE])
    const root = `${baseUrl(req)}/ogc`
    const extents = await collectionExtents(app.db)
    return sendJson(reply, type, {
      links: [{ href: `${root}/collections`, rel: 'self', type: JSON_TYPE, title: 'feature collections' }],
      collections: COLLECTIONS.map((def) => describeCollection(root, def, extents.get(def.id))),
    })
  })

  app.get(
    '/ogc/collections/:collectionId',
    { schema: { params: CollectionParams, querystring: MetaQuery, response: { 200: CollectionSchema, ...errors } } },
    async (req, reply) => {
      const def = requireCollection(req.params.collectionId)
      const type = format(req, [JSON_TYPE])
      const extents = await collectionExtents(app.db)
      return sendJson(reply, type, describeCollection(`${baseUrl(req)}/ogc`, def, extents.get(def.id)))
    },
  )

  app.get(
    '/ogc/collections/:collectionId/items',
    { schema: { params: CollectionParams, querystring: ItemsQuery, response: { 200: GeoJsonTextSchema, ...errors } } },
    async (req, reply) => {
      const def = requireCollection(req.params.collectionId)
      const type = format(req, [GEOJSON_TYPE, JSON_TYPE])
      const bbox = parseBbox(req.query.bbox)
      const limit = Math.min(req.query.limit ?? DEFAULT_LIMIT, MAX_LIMIT)
      const offset = req.query.offset ?? 0
      const page = await featurePage(app.db, def, { bbox, limit, offset })

      const itemsUrl = `${baseUrl(req)}/ogc/collections/${def.id}/items`
      const pageUrl = (off: number) => {
        const u = new URL(itemsUrl)
        if (req.query.f) u.searchParams.set('f', req.query.f)
        if (req.query.bbox !== undefined) u.searchParams.set('bbox', req.query.bbox)
        u.searchParams.set('limit', String(limit))
        u.searchParams.set('offset', String(off))
        return u.toString()
      }
      const links: Link[] = [{ href: pageUrl(offset), rel: 'self', type: GEOJSON_TYPE, title: 'this page' }]
      if (offset + page.numberReturned < page.numberMatched) {
        links.push({ href: pageUrl(offset + limit), rel: 'next', type: GEOJSON_TYPE, title: 'next page' })
      }
      if (offset > 0) {
        links.push({ href: pageUrl(Math.max(0, offset - limit)), rel: 'prev', type: GEOJSON_TYPE, title: 'previous page' })
      }
      links.push({ href: `${baseUrl(req)}/ogc/collections/${def.id}`, rel: 'collection', type: JSON_TYPE, title: def.title })

      const head = JSON.stringify({
        type: 'FeatureCollection',
        numberMatched: page.numberMatched,
        numberReturned: page.numberReturned,
        timeStamp: new Date().toISOString(),
        links,
      })
      // The features array arrives as JSON text from PostGIS: splice it in rather than parse and re-serialise it.
      return reply.type(`${type}; charset=utf-8`).send(`${head.slice(0, -1)},"features":${page.features}}`)
    },
  )

  app.get(
    '/ogc/collections/:collectionId/items/:featureId',
    {
      schema: {
        params: FeatureParams,
        querystring: Type.Object({ f: ItemsFormatParam }, { additionalProperties: false }),
        response: { 200: GeoJsonTextSchema, ...errors },
      },
    },
    async (req, reply) => {
      const def = requireCollection(req.params.collectionId)
      const type = format(req, [GEOJSON_TYPE, JSON_TYPE])
      const feature = await featureById(app.db, def, req.params.featureId)
      if (!feature) throw new HttpError(404, 'not_found', `no feature "${req.params.featureId}" in collection "${def.id}"`)
      const root = `${baseUrl(req)}/ogc/collections/${def.id}`
      const links: Link[] = [
        { href: `${root}/items/${encodeURIComponent(req.params.featureId)}`, rel: 'self', type: GEOJSON_TYPE, title: 'this feature' },
        { href: root, rel: 'collection', type: JSON_TYPE, title: def.title },
      ]
      return reply.type(`${type}; charset=utf-8`).send(`${feature.slice(0, -1)},"links":${JSON.stringify(links)}}`)
    },
  )

  // Unknown paths under /ogc answer a JSON 404, never the web app's page.
  app.get('/ogc/*', { schema: { response: { 404: ErrorSchema } } }, async (req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `${req.url.split('?')[0]} is not an OGC API resource` }),
  )
}

import { COLLECTION_IDS } from '../../repos/features.ts'
import { DEFAULT_LIMIT, MAX_LIMIT } from './schemas.ts'

const json = (description: string, type = 'application/json') => ({ description, content: { [type]: { schema: { type: 'object' } } } })
const ref = (name: string) => ({ $ref: `#/components/parameters/${name}` })
const errors = { '400': json('invalid request'), '404': json('no such collection or feature'), '406': json('no acceptable format') }

/** The OpenAPI 3.0 definition of /ogc (the service-desc of the landing page); paths are relative to servers[0]. */
export function openApiDocument(root: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'GridCommand OGC API – Features',
      version: '1.0.0',
      description: 'Regions (district → micro-grid) and cameras of the GridCommand command center, as GeoJSON.',
    },
    servers: [{ url: root }],
    paths: {
      '/': { get: { summary: 'landing page', parameters: [ref('f')], responses: { '200': json('links to the API'), ...errors } } },
      '/conformance': { get: { summary: 'conformance classes', parameters: [ref('f')], responses: { '200': json('conformsTo'), ...errors } } },
      '/collections': { get: { summary: 'feature collections', parameters: [ref('f')], responses: { '200': json('collections'), ...errors } } },
      '/collections/{collectionId}': {
        get: { summary: 'one collection', parameters: [ref('collectionId'), ref('f')], responses: { '200': json('collection'), ...errors } },
      },
      '/collections/{collectionId}/items': {
        get: {
          summary: 'features of a collection, ordered by id',
          parameters: [ref('collectionId'), ref('bbox'), ref('limit'), ref('offset'), ref('itemsF')],
          responses: { '200': json('a page of features', 'application/geo+json'), ...errors },
        },
      },
      '/collections/{collectionId}/items/{featureId}': {
        get: {
          summary: 'one feature',
          parameters: [ref('collectionId'), ref('featureId'), ref('itemsF')],
          responses: { '200': json('feature', 'application/geo+json'), ...errors },
        },
      },
    },
    components: {
      parameters: {
        collectionId: { name: 'collectionId', in: 'path', required: true, schema: { type: 'string', enum: [...COLLECTION_IDS] } },
        featureId: { name: 'featureId', in: 'path', required: true, schema: { type: 'string' } },
        f: { name: 'f', in: 'query', required: false, schema: { type: 'string', enum: ['json'] } },
        itemsF: { name: 'f', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'geojson'] } },
        bbox: {
          name: 'bbox',
          in: 'query',
          required: false,
          style: 'form',
          explode: false,
          description: 'minLon,minLat,maxLon,maxLat in CRS84',
          schema: { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } },
        },
        limit: {
          name: 'limit',
          in: 'query',
          required: false,
          description: `page size; larger values are cut to ${MAX_LIMIT}`,
          schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
        },
        offset: { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 } },
      },
    },
  }
}

import { createHash } from 'node:crypto'
import { Type } from 'typebox'
import type { AppInstance } from '../../app-types.ts'
import { COLLECTIONS, collectionById } from '../../repos/features.ts'
import { MAX_TILE_ZOOM, vectorTile } from '../../repos/tiles.ts'
import { HttpError } from '../../services/http-error.ts'
import { ErrorSchema } from '../ogc/schemas.ts'

export const MVT_TYPE = 'application/vnd.mapbox-vector-tile'
/** Region boundaries change rarely (动态调整 is a planned act); five minutes of staleness is acceptable on a map. */
export const TILE_CACHE_CONTROL = 'public, max-age=300'

const TileParams = Type.Object({
  layer: Type.String({ maxLength: 64, description: `one of: ${COLLECTIONS.map((c) => c.id).join(', ')}` }),
  z: Type.Integer({ minimum: 0, maximum: MAX_TILE_ZOOM }),
  x: Type.Integer({ minimum: 0 }),
  y: Type.Integer({ minimum: 0 }),
})

/** Whether an If-None-Match header (a list of entity tags, weak or strong, or `*`) names `etag`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag
  })
}

/**
 * Mapbox Vector Tiles of the OGC collections: /tiles/{layer}/{z}/{x}/{y}.mvt, XYZ scheme (y from the north),
 * Web Mercator, extent 4096, one layer named like the collection. A tile with no feature answers 204 No Content
 * (MapLibre draws it as empty); micro-grid tiles below z11 are always empty (see MIN_TILE_ZOOM).
 */
export default async function tileRoutes(app: AppInstance) {
  app.get(
    '/tiles/:layer/:z/:x/:y.mvt',
    {
      schema: {
        params: TileParams,
        response: {
          200: { description: 'the tile (protobuf)', content: { [MVT_TYPE]: { schema: Type.Unsafe<unknown>({ type: 'string', format: 'binary' }) } } },
          204: Type.Null({ description: 'no feature in this tile' }),
          304: Type.Null({ description: 'unchanged since the ETag given in If-None-Match' }),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const { layer, z, x, y } = req.params
      const def = collectionById(layer)
      if (!def) throw new HttpError(404, 'not_found', `no tile layer "${layer}"; layers: ${COLLECTIONS.map((c) => c.id).join(', ')}`)
      const size = 2 ** z
      if (x >= size) throw new HttpError(400, 'invalid_request', `params.x must be < ${size} at zoom ${z}`, 'x')
      if (y >= size) throw new HttpError(400, 'invalid_request', `params.y must be < ${size} at zoom ${z}`, 'y')

      const tile = await vectorTile(app.db, def, z, x, y)
      reply.header('cache-control', TILE_CACHE_CONTROL)
      if (tile.byteLength === 0) return reply.code(204).send(null)

      const body = Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength)
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
      reply.header('etag', etag)
      if (matchesEtag(req.headers['if-none-match'], etag)) return reply.code(304).send(null)
      return reply.type(MVT_TYPE).send(body)
    },
  )

  // Unknown paths under /tiles (another suffix, too few segments) answer a JSON 404, never the web app's page.
  app.get('/tiles/*', { schema: { response: { 404: ErrorSchema } } }, async (req, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `${req.url.split('?')[0]} is not a tile; use /tiles/{layer}/{z}/{x}/{y}.mvt with layer one of ${COLLECTIONS.map((c) => c.id).join(', ')}`,
    }),
  )
}

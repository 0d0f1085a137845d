import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyError, FastifySchemaCompiler } from 'fastify'

/**
 * Request validation: bodies are taken exactly as sent (no type coercion, unknown fields refused, never silently
 * dropped — nothing a user submitted is lost); query strings and path params are text, so numbers there are coerced.
 * Fastify's default would coerce and strip bodies too.
 */
function makeAjv(opts: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, ...opts })
  addFormats.default(ajv)
  return ajv
}

const strict = makeAjv({ coerceTypes: false })
const coercing = makeAjv({ coerceTypes: 'array' })

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>

/**
 * The field and the sentence for a request that failed its schema, e.g. { field: 'lat', message: 'body.lat must be
 * <= 90' }. `dots` (the /api default) names a missing or unknown property by itself and a nested value by its dotted
 * path (`photos.0`); `brackets` names the full path the way a client wrote it (`positions[12].lat`).
 */
export function describeValidation(
  err: FastifyError & { validationContext?: string },
  opts: { style?: 'dots' | 'brackets'; context?: string } = {},
): { field: string; message: string } {
  const v = err.validation![0]
  const params = v.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] }
  const named = params.missingProperty ?? params.additionalProperty
  let field: string
  if (opts.style === 'brackets') {
    const segments = v.instancePath.split('/').slice(1)
    if (named) segments.push(named)
    field = segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '')
  } else {
    field = named ?? v.instancePath.replace(/^\//, '').replace(/\//g, '.')
  }
  const reason = params.missingProperty
    ? 'is required'
    : params.additionalProperty
      ? 'is not allowed'
      : params.allowedValues
        ? `must be one of: ${params.allowedValues.join(', ')}`
        : v.message
  const where = `${err.validationContext ?? opts.context ?? 'request'}${field ? `.${field}` : ''}`
  return { field, message: `${where} ${reason}` }
}

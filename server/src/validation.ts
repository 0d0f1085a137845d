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

/**
 * Characters no text field takes, whatever the route:
 * - U+0000 and lone UTF-16 surrogates: PostgreSQL's text and jsonb cannot hold them (the driver would fail and the
 *   client would get a 500);
 * - the other C0 controls but TAB, LF and CR, DEL and the C1 controls: invisible, they garble the wall, the CSV
 *   ledger and the logs and are never typed on purpose;
 * - the bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069): they reorder what a
 *   dispatcher reads (an address shown backwards). The marks U+200E/U+200F, which only hint a direction, are taken.
 * A paired surrogate (an emoji) is one code point under the `u` flag and never matches.
 */
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDFFF]/u

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (code === 0) return `${hex} (NUL), which cannot be stored`
  if (code >= 0xd800 && code <= 0xdfff) return `${hex}, an unpaired UTF-16 surrogate, which cannot be stored`
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return `${hex}, a bidirectional control character`
  return `${hex}, a control character`
}

export interface TextProblem {
  /** JSON pointer of the value, as AJV writes it (`/features/0/properties/name`). */
  instancePath: string
  message: string
}

/** The first string (or property name) in `value` holding a character of UNSTORABLE, or null. */
export function findUnstorableText(value: unknown, path = ''): TextProblem | null {
  if (typeof value === 'string') {
    const m = UNSTORABLE.exec(value)
    return m ? { instancePath: path, message: `must not contain ${describeChar(m[0])}` } : null
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return null
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findUnstorableText(value[i], `${path}/${i}`)
      if (p) return p
    }
    return null
  }
  for (const [k, v] of Object.entries(value)) {
    const m = UNSTORABLE.exec(k)
    if (m) return { instancePath: path, message: `has a property name that contains ${describeChar(m[0])}` }
    const p = findUnstorableText(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    if (p) return p
  }
  return null
}

/**
 * Every schema-checked part of every request (body, query string, params, headers) also passes findUnstorableText:
 * a bad character is a validation error like any other, so each route's own error shape (the /api 400 naming the
 * field, Open311's error array, a route that attaches validation) reports it.
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const check = (httpPart === 'body' ? strict : coercing).compile(schema as object)
  const validate = ((data: unknown) => {
    if (!check(data)) {
      validate.errors = check.errors
      return false
    }
    const problem = findUnstorableText(data)
    validate.errors = problem ? [{ ...problem, keyword: 'text', schemaPath: '#', params: {} }] : null
    return !problem
  }) as { (data: unknown): boolean; errors?: unknown }
  return validate as unknown as ReturnType<FastifySchemaCompiler<unknown>>
}

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

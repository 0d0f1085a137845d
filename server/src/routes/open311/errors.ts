import { describeValidation } from '../../validation.ts'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../../services/http-error.ts'

/** One entry of the GeoReport v2 error array: the HTTP status as `code`, and a sentence naming the field. */
export interface Open311ErrorItem {
  code: number
  description: string
}

/**
 * An Open311 error with one or more descriptions (the spec's error body is an array, so every problem found in a
 * request is reported at once).
 */
export class Open311Error extends Error {
  readonly descriptions: string[]
  constructor(
    readonly statusCode: number,
    descriptions: string | string[],
  ) {
    const list = Array.isArray(descriptions) ? descriptions : [descriptions]
    super(list.join('; '))
    this.descriptions = list
    this.name = 'Open311Error'
  }
}

const items = (status: number, descriptions: string[]): Open311ErrorItem[] => descriptions.map((description) => ({ code: status, description }))

/** `querystring.start_date must be string` from an AJV error, naming the parameter. */
const validationDescription = (err: FastifyError): string => describeValidation(err).message

/**
 * The error handler of the Open311 plugin: every error leaves as the GeoReport v2 error array with the HTTP status
 * the spec asks for — 404 for what does not exist, 400 for anything else the client must change (our 422s included:
 * a point outside every grid, an Idempotency-Key reused for another body), plus the HTTP statuses a client acts on
 * by itself (405, 409 retry later, 413, 415). Never the `{ error, message }` shape of /api.
 */
export function open311ErrorHandler(err: FastifyError | HttpError | Open311Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof Open311Error) return reply.code(err.statusCode).send(items(err.statusCode, err.descriptions))
  if (err instanceof HttpError) {
    const status = err.statusCode === 422 ? 400 : err.statusCode
    return reply.code(status).send(items(status, [err.message]))
  }
  if (err.validation) return reply.code(400).send(items(400, [validationDescription(err)]))
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply
        .code(415)
        .send(items(415, ['send the request as application/x-www-form-urlencoded (as the GeoReport v2 spec says) or application/json']))
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply.code(413).send(items(413, ['the request body is too large']))
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply.code(400).send(items(400, [`the body is not valid JSON: ${err.message}`]))
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
  if (status >= 500) req.log.error(err)
  return reply.code(status).send(items(status, [status >= 500 ? 'internal server error' : err.message]))
}

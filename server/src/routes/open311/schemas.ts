import { Type, type Static, type TSchema } from 'typebox'

/**
 * GeoReport v2 response shapes (http://wiki.open311.org/GeoReport_v2), JSON flavour. Fields the spec marks "may
 * not be returned" are always present here, null when we have nothing. Our own additions are prefixed
 * `x_gridcommand_` (extensions are allowed by the spec).
 */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const W3 = Type.String({ format: 'date-time', description: 'W3C datetime with time zone (UTC, Z)' })

export const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2'

export const DiscoverySchema = Type.Object({
  changeset: Type.String({ description: 'sortable; changes when the service list (the categories) changes' }),
  contact: Type.String(),
  key_service: Type.String(),
  endpoints: Type.Array(
    Type.Object({
      specification: Type.String(),
      url: Type.String(),
      changeset: Type.String(),
      type: Type.Union([Type.Literal('production'), Type.Literal('test')]),
      formats: Type.Array(Type.String()),
    }),
  ),
})

export const ServiceSchema = Type.Object({
  service_code: Type.String({ description: 'our category code (family or family.child)' }),
  service_name: Type.String(),
  description: Type.String(),
  metadata: Type.Boolean(),
  type: Type.Union([Type.Literal('realtime'), Type.Literal('batch'), Type.Literal('blackbox')]),
  keywords: Type.String(),
  group: Type.String({ description: "the category family's name" }),
})
export type Service = Static<typeof ServiceSchema>

export const ServiceDefinitionSchema = Type.Object({
  service_code: Type.String(),
  attributes: Type.Array(Type.Object({}, { additionalProperties: true })),
})

export const RequestSchema = Type.Object({
  service_request_id: Type.String({ description: 'the case code, e.g. GC20261121000042' }),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  status_notes: Nullable(Type.String()),
  service_name: Nullable(Type.String()),
  service_code: Type.String(),
  description: Nullable(Type.String()),
  agency_responsible: Nullable(Type.String()),
  service_notice: Nullable(Type.String()),
  requested_datetime: W3,
  updated_datetime: W3,
  expected_datetime: Nullable(W3),
  address: Nullable(Type.String()),
  address_id: Nullable(Type.String()),
  zipcode: Nullable(Type.String()),
  lat: Type.Number(),
  long: Type.Number(),
  media_url: Nullable(Type.String()),
  x_gridcommand_id: Type.String({ format: 'uuid' }),
  x_gridcommand_status: Type.String({ description: 'our detailed status (reported … rated, rejected, merged)' }),
  x_gridcommand_status_name: Type.String(),
  x_gridcommand_priority: Type.String(),
  x_gridcommand_source: Type.String(),
  x_gridcommand_owning_level: Type.Integer({ description: '4 grid, 3 community, 2 street, 1 district' }),
  x_gridcommand_overdue: Type.Boolean(),
  x_gridcommand_department: Nullable(Type.String()),
  x_gridcommand_merged_into: Nullable(Type.String({ description: 'service_request_id of the request this one duplicates' })),
})
export type Open311Request = Static<typeof RequestSchema>

export const CreatedSchema = Type.Object({
  service_request_id: Type.String(),
  service_notice: Nullable(Type.String()),
  account_id: Type.Null(),
  x_gridcommand_id: Type.String({ format: 'uuid' }),
})
export type Created = Static<typeof CreatedSchema>

export const TokenSchema = Type.Object({ service_request_id: Type.String(), token: Type.String() })

/** Every Open311 error answer (errors.ts): one entry per problem, `code` the HTTP status. */
export const Open311ErrorSchema = Type.Array(Type.Object({ code: Type.Integer(), description: Type.String() }), {
  description: 'GeoReport v2 errors: the HTTP status and a sentence naming the field, one entry per problem',
})

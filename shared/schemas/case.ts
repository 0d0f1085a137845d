import { Type, type Static } from 'typebox'
import { CASE_STATUSES, type CaseStatus } from '../domain/case-status.ts'
import { CATEGORY_CODES, type CategoryCode } from '../domain/categories.ts'
import { INPUT_CRS, type InputCrs } from '../geo/crs.ts'
import { LatSchema, LonSchema } from './geo.ts'
import { RegionRefSchema } from './region.ts'

export const CaseCreateSchema = Type.Object(
  {
    category: Type.Unsafe<CategoryCode>({ type: 'string', enum: CATEGORY_CODES, description: 'category code' }),
    description: Type.String({ minLength: 1, maxLength: 2000 }),
    lon: LonSchema,
    lat: LatSchema,
    crs: Type.Optional(
      Type.Unsafe<InputCrs>({ type: 'string', enum: INPUT_CRS, description: 'CRS of lon/lat; gcj02 is converted, storage is WGS84' }),
    ),
  },
  { additionalProperties: false },
)
export type CaseCreate = Static<typeof CaseCreateSchema>

export const CaseSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  /** Human-readable case number, e.g. GC20261121000042. */
  code: Type.String(),
  status: Type.Unsafe<CaseStatus>({ type: 'string', enum: CASE_STATUSES }),
  category: Type.String(),
  description: Type.String(),
  lon: Type.Number(),
  lat: Type.Number(),
  /** The region chain resolved when the case was reported, district first. */
  regions: Type.Array(RegionRefSchema),
  reportedAt: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
})
export type Case = Static<typeof CaseSchema>

export const CaseListSchema = Type.Object({ cases: Type.Array(CaseSchema) })
export type CaseList = Static<typeof CaseListSchema>

import { Type, type Static } from 'typebox'

/** Every 4xx/5xx body: a stable machine-readable code, a sentence for people, and the offending field if any. */
export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.Optional(Type.String()),
  field: Type.Optional(Type.String()),
})
export type ErrorBody = Static<typeof ErrorSchema>

import { Type, type Static } from 'typebox'

/** Every 4xx/5xx body: a stable machine-readable code, a sentence for people, and the offending field if any. */
export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.Optional(Type.String()),
  field: Type.Optional(Type.String()),
  /** 409 action_not_allowed: the actions the case's status allows. */
  allowed: Type.Optional(Type.Array(Type.String())),
  /** 412 version_mismatch: the version the case is at now. */
  currentVersion: Type.Optional(Type.Integer()),
})
export type ErrorBody = Static<typeof ErrorSchema>

import { Type, type Static, type TSchema } from 'typebox'
import { ROLES, type Role } from '../domain/roles.ts'

/** Request and response bodies of /api/auth (server/src/routes/api/auth.ts), also the web client's types (web/src/stores/session.ts). */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const LoginBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
)

export const RefreshBodySchema = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false })

export const LogoutBodySchema = Type.Object(
  {
    /** The session to end; without it, the session of the Bearer token. */
    refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** End every session of the user (all devices). */
    all: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const UserProfileSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  displayName: Nullable(Type.String()),
  role: Type.Unsafe<Role>({ type: 'string', enum: [...ROLES] }),
  scopeRegionId: Nullable(Type.String()),
  scopePath: Nullable(Type.String()),
  scopeName: Nullable(Type.String()),
  scopeLevel: Nullable(Type.Integer()),
  workerId: Nullable(Type.String()),
})

export const TokenPairSchema = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds the access token lives' }),
  refreshToken: Type.String(),
  refreshExpiresAt: Type.String({ format: 'date-time' }),
  user: UserProfileSchema,
})

/** What the client learns about the signed-in user (login, refresh, GET /api/auth/me). */
export type UserProfile = Static<typeof UserProfileSchema>
export type TokenPair = Static<typeof TokenPairSchema>

/** GET /api/auth/demo: the seeded demo accounts still enabled, and their shared password (demo servers only). */
export const DemoAccountsSchema = Type.Object({
  password: Type.String(),
  usernames: Type.Array(Type.String()),
})
export type DemoAccounts = Static<typeof DemoAccountsSchema>

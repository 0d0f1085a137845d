import type { Case } from '../schemas/case.ts'

/** Every event relayed from the event log carries its sequence number (strictly increasing). */
export interface Sequenced {
  seq: number
}

/** Server → client broadcasts, named `domain:past-participle`. */
export interface ServerToClientEvents {
  'case:created': (event: Sequenced & { case: Case }) => void
  /** Boundaries changed (POST /api/regions/import): dashboards reload their region layers. */
  'regions:imported': (event: Sequenced & { created: number; updated: number; unchanged: number; repathed: number; idCount: number }) => void
}

/** Client → server commands, named `domain:verb`; every command is answered with an Ack. */
export interface ClientToServerEvents {
  'region:subscribe': (regionId: string, ack: (res: Ack<{ room: string }>) => void) => void
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: string; message?: string }

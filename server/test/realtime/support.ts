/**
 * A dashboard for the tests: the same event-stream client as the web app (shared/protocol/stream.ts) over a real
 * socket.io-client, holding cases like the web store does (by id, never back to an older version), and recording
 * every seq it applied so that a test can count what was lost and what was applied twice.
 */
import { io as connect } from 'socket.io-client'
import { OPEN_STATUSES } from '../../../shared/domain/case-status.ts'
import type { FrameEvent, Scope } from '../../../shared/protocol/events.ts'
import { attachEventStream, type EventStream, type StreamSocket } from '../../../shared/protocol/stream.ts'
import type { Case } from '../../../shared/schemas/case.ts'
import type { Db, Queryable } from '../../src/db/types.ts'

export interface DashboardOptions {
  scope?: Scope
  /** Socket.IO's own reconnection (on for the fault tests). */
  reconnection?: boolean
}

export class Dashboard {
  position: number | null = null
  readonly cases = new Map<string, Case>()
  /** Every seq applied, in the order applied. */
  readonly applied: number[] = []
  readonly events: FrameEvent[] = []
  /** Frames received, with the time they arrived (performance.now). */
  readonly frames: Array<{ at: number; size: number }> = []
  snapshots = 0
  duplicatesDropped = 0
  resets = 0
  socket: StreamSocket | undefined
  stream: EventStream | undefined
  private url = ''

  constructor(private readonly opts: DashboardOptions = {}) {}

  get scope(): Scope {
    return this.opts.scope ?? { all: true }
  }

  /** Connects to `url` (a server process) and resolves once the stream is live there. */
  async connect(url: string): Promise<void> {
    this.disconnect()
    this.url = url
    const socket: StreamSocket = connect(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: this.opts.reconnection ?? false,
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
    })
    socket.on('events:frame', (frame) => this.frames.push({ at: performance.now(), size: frame.length }))
    // Like the web app: after the server itself closed the link (a restart) Socket.IO does not retry on its own.
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect' && (this.opts.reconnection ?? false)) setTimeout(() => this.socket === socket && socket.connect(), 100)
    })
    this.socket = socket
    this.stream = attachEventStream(
      socket,
      {
        getPosition: () => this.position,
        setPosition: (seq) => (this.position = seq),
        apply: (e) => this.apply(e),
        snapshot: () => this.snapshot(),
        onError: () => {},
      },
      { scope: this.scope, retryMs: 100 },
    )
    await this.whenLive(10_000)
  }

  async whenLive(ms: number): Promise<void> {
    const stream = this.stream!
    await Promise.race([
      stream.whenLive(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`dashboard not live after ${ms} ms (status ${stream.status})`)), ms)),
    ])
  }

  disconnect(): void {
    if (!this.stream) return
    this.duplicatesDropped += this.stream.stats.duplicates
    this.resets += this.stream.stats.resets
    this.stream.detach()
    this.socket!.disconnect()
    this.stream = undefined
    this.socket = undefined
  }

  /** Duplicates dropped over every connection so far. */
  get duplicates(): number {
    return this.duplicatesDropped + (this.stream?.stats.duplicates ?? 0)
  }

  private apply(e: FrameEvent): void {
    this.applied.push(e.seq)
    this.events.push(e)
    if (e.kind === 'case:created' || e.kind === 'case:updated') {
      const held = this.cases.get(e.case.id)
      if (!held || held.version < e.case.version) this.cases.set(e.case.id, e.case)
    }
  }

  private async snapshot(): Promise<number> {
    const res = await fetch(`${this.url}/api/cases?status=open&limit=20000`)
    if (!res.ok) throw new Error(`snapshot → ${res.status}`)
    const body = (await res.json()) as { cases: Case[]; seq: number }
    this.cases.clear()
    for (const c of body.cases) this.cases.set(c.id, c)
    this.snapshots++
    return body.seq
  }

  /** Open cases as id → version. */
  openVersions(): Map<string, number> {
    const out = new Map<string, number>()
    for (const c of this.cases.values()) if (OPEN_STATUSES.includes(c.status)) out.set(c.id, c.version)
    return out
  }

  /** Resolves when the dashboard has applied `seq` (or beyond). */
  async reach(seq: number, ms = 10_000): Promise<void> {
    const t0 = Date.now()
    while ((this.position ?? -1) < seq) {
      if (Date.now() - t0 > ms) throw new Error(`dashboard at ${this.position}, still short of ${seq} after ${ms} ms`)
      await sleep(10)
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Open cases in the database as id → version (what every dashboard of the wall must hold). */
export async function dbOpenVersions(q: Queryable): Promise<Map<string, number>> {
  const { rows } = await q.query<{ id: string; version: number }>('SELECT id, version FROM cases WHERE status = ANY($1::text[])', [OPEN_STATUSES])
  return new Map(rows.map((r) => [r.id, r.version]))
}

/** The seqs in the log after `after` (up to `upTo`), in order. */
export async function logSeqs(q: Queryable, after: number, upTo = Number.MAX_SAFE_INTEGER): Promise<number[]> {
  const { rows } = await q.query<{ seq: number }>('SELECT seq FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq', [after, upTo])
  return rows.map((r) => r.seq)
}

export async function maxSeq(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ m: number }>('SELECT coalesce(max(seq), 0)::bigint AS m FROM events')
  return rows[0].m
}

/** Lost = in the log but never applied; twice = applied more than once. */
export function audit(applied: number[], expected: number[]): { lost: number[]; twice: number[]; outOfOrder: number } {
  const seen = new Map<number, number>()
  for (const s of applied) seen.set(s, (seen.get(s) ?? 0) + 1)
  let outOfOrder = 0
  for (let i = 1; i < applied.length; i++) if (applied[i] <= applied[i - 1]) outOfOrder++
  return { lost: expected.filter((s) => !seen.has(s)), twice: [...seen].filter(([, n]) => n > 1).map(([s]) => s), outOfOrder }
}

/** A Db whose LISTEN never hears anything: a LISTEN connection that died silently. */
export function deafDb(db: Db): Db {
  return {
    mode: db.mode,
    query: db.query.bind(db),
    exec: db.exec.bind(db),
    transaction: db.transaction.bind(db),
    listen: async () => async () => {},
    close: db.close.bind(db),
  }
}

let counter = 0
/** A point inside the demo region (spread a little so that cases are not all in one grid). */
export function demoPoint(i = counter++): { lon: number; lat: number } {
  return { lon: 119.6 + (i % 50) * 0.003, lat: 29.06 + (i % 7) * 0.005 }
}

export async function report(url: string, description: string, i?: number): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/cases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ category: 'sanitation', description, ...demoPoint(i) }),
  })
  return { status: res.status, body: await res.json().catch(() => null) }
}

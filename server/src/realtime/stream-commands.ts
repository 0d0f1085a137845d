/**
 * The socket side of the event stream: `events:resume` checked (its shape, then the policy for every region asked,
 * then whose personal channel `mine` is) and handed to the frame hub; a disconnect tells the hub. The hub (hub.ts)
 * knows nothing of the policy.
 */
import type { Ack, ResumeReply, Scope } from '../../../shared/protocol/events.ts'
import { MAX_SCOPE_REGIONS, REGION_ID_RE } from '../../../shared/protocol/rooms.ts'
import type { FrameHub } from './hub.ts'
import { allowEverything, noPersonalChannel, type GcServer, type PersonalChannel, type SubscribePolicy } from './socket-server.ts'

type Parsed = { ok: true; after: number | undefined; scope: Scope } | { ok: false; message: string }

function parseResume(req: unknown): Parsed {
  if (req === undefined || req === null) return { ok: true, after: undefined, scope: { all: true } }
  if (typeof req !== 'object' || Array.isArray(req)) return { ok: false, message: 'expected { after?, scope? }' }
  const { after, scope, ...rest } = req as Record<string, unknown>
  const extra = Object.keys(rest)
  if (extra.length) return { ok: false, message: `unknown field ${extra[0]}` }
  if (after !== undefined && after !== null && !(Number.isSafeInteger(after) && (after as number) >= 0)) {
    return { ok: false, message: 'after must be a seq (an integer >= 0)' }
  }
  let parsed: Scope = { all: true }
  if (scope !== undefined && scope !== null) {
    const s = scope as Record<string, unknown>
    const shape = 'scope must be { all: true } or { regions: [...], mine?: boolean }'
    if (typeof scope !== 'object' || Array.isArray(scope)) return { ok: false, message: shape }
    const { regions, mine, ...others } = s
    if (s.all === true && Object.keys(s).length === 1) parsed = { all: true }
    else if (Array.isArray(regions) && Object.keys(others).length === 0) {
      if (mine !== undefined && typeof mine !== 'boolean') return { ok: false, message: 'scope.mine must be true or false' }
      // With the personal channel the regions may be none (a resident follows only what is theirs).
      const least = mine ? 0 : 1
      if (regions.length < least || regions.length > MAX_SCOPE_REGIONS) {
        return { ok: false, message: `scope.regions must hold ${least} to ${MAX_SCOPE_REGIONS} region ids` }
      }
      for (const r of regions) {
        if (typeof r !== 'string' || !REGION_ID_RE.test(r)) return { ok: false, message: 'scope.regions: region ids are [A-Za-z0-9_]{1,64}' }
      }
      parsed = { regions: [...new Set(regions as string[])], ...(mine ? { mine: true } : {}) }
    } else return { ok: false, message: shape }
  }
  return { ok: true, after: after === null ? undefined : (after as number | undefined), scope: parsed }
}

/** The socket commands of the event stream (shared/protocol/events.ts). */
export function handleStreamCommands(io: GcServer, hub: FrameHub, policy: SubscribePolicy = allowEverything, personal: PersonalChannel = noPersonalChannel): void {
  io.on('connection', (socket) => {
    socket.on('events:resume', async (req, ack) => {
      const reply: (res: Ack<ResumeReply>) => void = typeof ack === 'function' ? ack : () => {}
      try {
        const p = parseResume(req)
        if (!p.ok) return reply({ ok: false, error: 'invalid_request', message: p.message })
        const asked = 'all' in p.scope ? [null] : p.scope.regions
        for (const regionId of asked) {
          if (!(await policy(socket, regionId))) {
            hub.disconnected(socket) // a refused resume leaves the socket with nothing, not with its old scope
            return reply({ ok: false, error: 'forbidden', message: regionId ? `not allowed to follow region ${regionId}` : 'not allowed to follow everything' })
          }
        }
        let mine: string | null = null
        if ('regions' in p.scope && p.scope.mine) {
          mine = await personal(socket)
          if (mine === null) {
            hub.disconnected(socket)
            return reply({ ok: false, error: 'forbidden', message: 'a personal channel (scope.mine) needs a signed-in user' })
          }
        }
        reply(await hub.resume(socket, p.after, p.scope, mine))
      } catch (err) {
        console.error('[realtime] events:resume failed:', err)
        reply({ ok: false, error: 'internal_error', message: 'try again' })
      }
    })
    socket.on('disconnect', () => hub.disconnected(socket))
  })
}

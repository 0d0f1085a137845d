import { io as connect, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Ack, ClientToServerEvents, FrameEvent, ResumeReply, Scope, ServerToClientEvents } from '../../../shared/protocol/events.ts'
import { expandEvent } from '../../../shared/protocol/wire.ts'
import type { AppInstance } from '../../src/app-types.ts'
import type { Db, DbMode } from '../../src/db/types.ts'
import { DB_MODES, testDb } from '../../../test/support/db.ts'
import { startServer } from '../../../test/support/server.ts'
import { bearer, signIn, TEST_SECRET } from '../auth/support.ts'
import { pointIn } from '../routes/field-support.ts'
import { maxSeq, sleep } from './support.ts'

type Client = Socket<ServerToClientEvents, ClientToServerEvents>
type CaseEvent = FrameEvent & { case: { id: string; version: number }; action?: string }

/**
 * The personal live channel (events:resume with scope.mine), with real Socket.IO clients on the server as buildApp
 * wires it (AUTH_MODE=token): what is assigned to, taken from, reported or followed by the user, and their own
 * worker's events, wherever they lie — live and replayed after a reconnect.
 */
describe.each(DB_MODES)('the personal channel (%s)', (mode: DbMode) => {
  let db: Db
  let app: AppInstance
  let url: string
  const open: Client[] = []
  const tokens = new Map<string, { token: string; workerId: string | null; scope: string | null }>()

  beforeAll(async () => {
    db = await testDb(mode)
    ;({ app, url } = await startServer({ db, auth: { mode: 'token', secret: TEST_SECRET, addressLimit: { max: 10_000, windowSeconds: 60 } } }))
    for (const u of ['worker-chengdong', 'worker-chengzhong', 'worker-chengdong-2', 'resident-zhang', 'resident-li', 'dispatcher-wucheng']) {
      const t = await signIn(app, u)
      tokens.set(u, { token: t.accessToken, workerId: t.user.workerId as string | null, scope: t.user.scopeRegionId as string | null })
    }
  })
  afterEach(() => {
    for (const s of open.splice(0)) s.disconnect()
  })
  afterAll(() => app.close())

  const as = (u: string) => bearer(tokens.get(u)!.token)
  const grid = (u: string) => tokens.get(u)!.scope!

  /** A signed-in socket following `scope` after `after`, collecting the events it is sent (expanded as stream.ts does). */
  async function follow(user: string, scope: Scope, after?: number) {
    const socket: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: tokens.get(user)!.token } })
    open.push(socket)
    const events: CaseEvent[] = []
    socket.on('events:frame', (frame) => events.push(...(frame.map(expandEvent) as CaseEvent[])))
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    const ack: Ack<ResumeReply> = await socket.timeout(5000).emitWithAck('events:resume', { scope, ...(after !== undefined ? { after } : {}) })
    return { socket, events, ack }
  }
  /** Waits until `events` holds one matching `pred`. */
  async function until(events: CaseEvent[], pred: (e: CaseEvent) => boolean, what: string) {
    for (let t0 = Date.now(); Date.now() - t0 < 10_000; await sleep(20)) if (events.some(pred)) return
    throw new Error(`timed out waiting for ${what}; got ${events.map((e) => `${e.kind}/${e.action ?? ''}`).join(', ')}`)
  }
  const about = (id: string) => (e: CaseEvent) => (e.kind === 'case:created' || e.kind === 'case:updated') && e.case.id === id
  const step = (id: string, action?: string) => (e: CaseEvent) => about(id)(e) && (action === undefined ? e.kind === 'case:created' : e.action === action)

  async function report(user: string, at: { lon: number; lat: number }) {
    const res = await app.inject({ method: 'POST', url: '/api/cases', headers: as(user), payload: { category: 'public_facilities.street_light', description: '路灯（个人频道）', ...at } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; version: number }
  }
  async function act(user: string, c: { id: string; version: number }, action: string, body: Record<string, unknown> = {}) {
    const res = await app.inject({ method: 'POST', url: `/api/cases/${c.id}/actions/${action}`, headers: { ...as(user), 'if-match': `"${c.version}"` }, payload: body })
    expect(res.statusCode, `${action}: ${res.body}`).toBe(200)
    return res.json() as { id: string; version: number }
  }

  it('a grid worker following their grid gets the assignment of a case outside it, and its taking away — nothing else of it', async () => {
    const me = tokens.get('worker-chengdong')!
    const personal = await follow('worker-chengdong', { regions: [grid('worker-chengdong')], mine: true })
    expect(personal.ack.ok, JSON.stringify(personal.ack)).toBe(true)
    const plain = await follow('worker-chengdong', { regions: [grid('worker-chengdong')] })
    // In 城中, another street: out of worker-chengdong's grid.
    let c = await report('resident-li', await pointIn(db, grid('worker-chengzhong')))
    c = await act('dispatcher-wucheng', c, 'register')
    c = await act('dispatcher-wucheng', c, 'dispatch', { assigneeId: me.workerId })
    await until(personal.events, step(c.id, 'dispatch'), 'the dispatch to worker-chengdong')
    c = await act('dispatcher-wucheng', c, 'reassign', { assigneeId: tokens.get('worker-chengzhong')!.workerId, reason: '就近处置' })
    await until(personal.events, step(c.id, 'reassign'), 'the reassignment away from worker-chengdong')
    c = await act('worker-chengzhong', c, 'accept')
    // A later event of their own grid closes the window: everything before it has been delivered.
    const mark = await report('resident-zhang', await pointIn(db, grid('worker-chengdong')))
    await until(personal.events, step(mark.id), 'the report in their grid')
    await until(plain.events, step(mark.id), 'the report in their grid (plain socket)')
    expect(personal.events.filter(about(c.id)).map((e) => e.action ?? e.kind)).toEqual(['dispatch', 'reassign'])
    const taken = personal.events.find(step(c.id, 'reassign'))! as unknown as { entry: { data: Record<string, unknown> } }
    expect(taken.entry.data).toMatchObject({ previousAssigneeId: me.workerId })
    // Without mine the same socket scope gets nothing of a case outside the grid.
    expect(plain.events.filter(about(c.id))).toEqual([])
  })

  it('a resident follows only their own cases: their report and each step of it, not the neighbour’s in the same grid', async () => {
    const r = await follow('resident-zhang', { regions: [], mine: true })
    expect(r.ack).toMatchObject({ ok: true, data: { rooms: [] } })
    const here = await pointIn(db, grid('worker-chengdong'))
    const neighbour = await report('resident-li', here)
    let mine = await report('resident-zhang', here)
    mine = await act('dispatcher-wucheng', mine, 'register')
    await act('dispatcher-wucheng', neighbour, 'register')
    mine = await act('dispatcher-wucheng', mine, 'note', { note: '已派人查看' })
    await until(r.events, step(mine.id, 'note'), 'the note on their case')
    expect(r.events.filter(about(mine.id)).map((e) => e.action ?? e.kind)).toEqual(['case:created', 'register', 'note'])
    expect(r.events.filter(about(neighbour.id))).toEqual([])
    // Nothing of anybody else at all: every event they got is about a case they reported.
    for (const e of r.events) expect((e as unknown as { case: { reporter: string } }).case.reporter).toBe('resident-zhang')
  })

  it('replays after a reconnect: what happened to their case while they were away, in order, and only that', async () => {
    const first = await follow('resident-zhang', { regions: [], mine: true })
    let c = await report('resident-zhang', await pointIn(db, grid('worker-chengdong')))
    await until(first.events, step(c.id), 'their report')
    const position = await maxSeq(db)
    first.socket.disconnect()
    c = await act('dispatcher-wucheng', c, 'register')
    const other = await report('resident-li', await pointIn(db, grid('worker-chengdong')))
    await act('dispatcher-wucheng', other, 'register')
    c = await act('dispatcher-wucheng', c, 'dispatch', { assigneeId: tokens.get('worker-chengdong')!.workerId })
    const again = await follow('resident-zhang', { regions: [], mine: true }, position)
    expect(again.ack.ok, JSON.stringify(again.ack)).toBe(true)
    await until(again.events, step(c.id, 'dispatch'), 'the replayed dispatch')
    expect(again.events.filter(about(c.id)).map((e) => e.action)).toEqual(['register', 'dispatch'])
    expect(again.events.filter(about(other.id))).toEqual([])
    const seqs = again.events.map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(seqs.every((s) => s > position)).toBe(true)
  })

  it('their own worker’s events: a status they or a dispatcher set reaches their channel; another worker’s does not', async () => {
    const me = tokens.get('worker-chengdong')!
    const other = tokens.get('worker-chengdong-2')!
    const s = await follow('worker-chengdong', { regions: [], mine: true })
    const status = (id: string, user: string, value: string) =>
      app.inject({ method: 'POST', url: `/api/workers/${id}/status`, headers: as(user), payload: { status: value } })
    const wanted = (await app.inject({ url: `/api/workers/${me.workerId}`, headers: as('dispatcher-wucheng') })).json().status === 'busy' ? 'on_duty' : 'busy'
    const otherWanted = (await app.inject({ url: `/api/workers/${other.workerId}`, headers: as('dispatcher-wucheng') })).json().status === 'busy' ? 'on_duty' : 'busy'
    expect((await status(other.workerId!, 'dispatcher-wucheng', otherWanted)).statusCode).toBe(200)
    expect((await status(me.workerId!, 'dispatcher-wucheng', wanted)).statusCode).toBe(200)
    const mineOf = (e: CaseEvent) => e.kind === 'worker:updated' && (e as unknown as { worker: { id: string } }).worker.id === me.workerId
    await until(s.events, mineOf, 'their worker:updated')
    expect(s.events.filter((e) => e.kind === 'worker:updated').map((e) => (e as unknown as { worker: { id: string; status: string } }).worker)).toEqual([
      expect.objectContaining({ id: me.workerId, status: wanted }),
    ])
  })

  it('a follower hears of the case they added themselves to, from the supplement on; the reporter hears of the supplement', async () => {
    const here = await pointIn(db, grid('worker-chengdong'))
    let c = await report('resident-zhang', here)
    const reporter = await follow('resident-zhang', { regions: [], mine: true })
    const neighbour = await follow('resident-li', { regions: [], mine: true })
    const res = await app.inject({ method: 'POST', url: `/api/cases/${c.id}/supplements`, headers: as('resident-li'), payload: { ...here, note: '我也看到了' } })
    expect(res.statusCode, res.body).toBe(201)
    c = res.json().case
    await until(reporter.events, step(c.id, 'supplement'), 'the supplement, on the reporter’s channel')
    c = await act('dispatcher-wucheng', c, 'register')
    await until(neighbour.events, step(c.id, 'register'), 'the register, on the follower’s channel')
    expect(neighbour.events.filter(about(c.id)).map((e) => e.action ?? e.kind)).toEqual(['supplement', 'register'])
  })

  it('their own check-ins come on their channel wherever they are; a colleague’s do not', async () => {
    const s = await follow('worker-chengdong', { regions: [], mine: true })
    const checkIn = (user: string) =>
      app.inject({ method: 'POST', url: '/api/checkins', headers: as(user), payload: { ...here, kind: 'place' } })
    const here = await pointIn(db, grid('worker-chengdong'))
    const theirs = await checkIn('worker-chengdong-2')
    expect(theirs.statusCode, theirs.body).toBe(201)
    const mine = await checkIn('worker-chengdong')
    expect(mine.statusCode, mine.body).toBe(201)
    const isCheckin = (e: CaseEvent) => e.kind === 'checkin:created'
    await until(s.events, (e) => isCheckin(e) && (e as unknown as { checkin: { id: string } }).checkin.id === mine.json().id, 'their check-in')
    expect(s.events.filter(isCheckin).map((e) => (e as unknown as { checkin: { workerId: string } }).checkin.workerId)).toEqual([tokens.get('worker-chengdong')!.workerId])
  })

  it('the policy: regions are checked as before, mine needs a valid request', async () => {
    const r = await follow('resident-zhang', { regions: ['330702001'], mine: true })
    expect(r.ack).toMatchObject({ ok: false, error: 'forbidden' })
    const empty = await follow('resident-zhang', { regions: [] })
    expect(empty.ack).toMatchObject({ ok: false, error: 'invalid_request' })
    const odd = await follow('resident-zhang', { regions: [], mine: 'yes' } as unknown as Scope)
    expect(odd.ack).toMatchObject({ ok: false, error: 'invalid_request' })
    const worker = await follow('worker-chengdong', { regions: ['330702002'], mine: true })
    expect(worker.ack).toMatchObject({ ok: false, error: 'forbidden' })
  })
})

describe.each(DB_MODES)('the personal channel without sign-in (%s)', (mode: DbMode) => {
  let app: AppInstance
  let url: string
  beforeAll(async () => {
    ;({ app, url } = await startServer({ db: await testDb(mode), auth: { secret: TEST_SECRET } }))
  })
  afterAll(() => app.close())

  it('a socket without a user (AUTH_MODE=dev-header) may follow regions but has no personal channel', async () => {
    const socket: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true })
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve())
        socket.once('connect_error', reject)
      })
      expect((await socket.timeout(5000).emitWithAck('events:resume', { scope: { regions: ['330702001'] } })).ok).toBe(true)
      const mine = await socket.timeout(5000).emitWithAck('events:resume', { scope: { regions: [], mine: true } })
      expect(mine).toMatchObject({ ok: false, error: 'forbidden' })
    } finally {
      socket.disconnect()
    }
  })
})

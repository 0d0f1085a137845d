import { Type, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { CaseSchema, TimelineEntrySchema, type Case, type TimelineEntry } from '../schemas/case.ts'
import type { FrameEvent, WireEvent } from './events.ts'
import { compactEvent, compactObject, expandEvent, expandObject, shapeOf } from './wire.ts'

// A `case:created` and a `case:updated` payload as the server logged them (a real run: POST /api/cases, then the
// register action), keys in the order PostgreSQL's jsonb keeps them.
const REPORTED: Case = JSON.parse(
  '{"id":"fe574e33-a776-48d5-9972-3dfeb786a758","lat":29.08,"lon":119.64,"code":"GC20261121000001","dueAt":"2026-11-24T09:30:00.000Z","rating":null,"source":"resident","stages":{"ratedAt":null,"closedAt":null,"handledAt":null,"acceptedAt":null,"verifiedAt":null,"dispatchedAt":null,"registeredAt":null},"status":"reported","address":null,"overdue":false,"regions":[{"id":"330702","name":"婺城区","level":1},{"id":"330702009","name":"新狮街道","level":2},{"id":"330702009007","name":"后垄社区","level":3},{"id":"330702009007G07","name":"后垄社区第七网格","level":4},{"id":"330702009007G07M07","name":"6幢","level":5}],"version":1,"category":"sanitation","priority":"normal","reporter":"dispatcher","updatedAt":"2026-11-21T15:29:45.410Z","assigneeId":null,"department":"sanitation","mergedInto":null,"reportedAt":"2026-11-21T15:29:45.410Z","madeAt":null,"description":"bench 3 #1234","escalations":0,"selfHandled":false,"supporters":0,"owningLevel":4,"ratingComment":null,"reopenRequestedAt":null,"timeLeftSeconds":237614}',
)
const REGISTERED: { case: Case; entry: TimelineEntry; action: 'register' } = JSON.parse(
  '{"case":{"id":"fe574e33-a776-48d5-9972-3dfeb786a758","lat":29.08,"lon":119.64,"code":"GC20261121000001","dueAt":"2026-11-24T09:30:00.000Z","rating":null,"source":"resident","stages":{"ratedAt":null,"closedAt":null,"handledAt":null,"acceptedAt":null,"verifiedAt":null,"dispatchedAt":null,"registeredAt":"2026-11-21T15:29:45.804Z"},"status":"registered","address":null,"overdue":false,"regions":[{"id":"330702","name":"婺城区","level":1},{"id":"330702009","name":"新狮街道","level":2},{"id":"330702009007","name":"后垄社区","level":3},{"id":"330702009007G07","name":"后垄社区第七网格","level":4},{"id":"330702009007G07M07","name":"6幢","level":5}],"version":2,"category":"sanitation","priority":"normal","reporter":"dispatcher","updatedAt":"2026-11-21T15:29:45.804Z","assigneeId":null,"department":"sanitation","mergedInto":null,"reportedAt":"2026-11-21T15:29:45.410Z","madeAt":null,"description":"bench 3 #1234","escalations":0,"selfHandled":false,"supporters":0,"owningLevel":4,"ratingComment":null,"reopenRequestedAt":null,"timeLeftSeconds":237614},"entry":{"at":"2026-11-21T15:29:45.804Z","id":2,"data":{"category":"sanitation","priority":"normal"},"note":null,"actor":"dispatcher","action":"register","toLevel":null,"toStatus":"registered","fromLevel":null,"fromStatus":"reported","attachments":[]},"action":"register"}',
)

const clone = <T>(v: T): T => structuredClone(v)

/** Every nullable field of `schema` set to null, at any depth (read from the schema, as wire.ts does, by other code). */
function nullEverything<T extends object>(value: T, schema: TSchema): T {
  const out = clone(value) as Record<string, unknown>
  const s = schema as { properties?: Record<string, TSchema & { anyOf?: Array<{ type?: string }>; type?: string }> }
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (prop.anyOf?.some((t) => t.type === 'null')) out[key] = null
    else if (prop.type === 'object' && 'properties' in prop) out[key] = nullEverything(out[key] as object, prop)
  }
  return out as T
}

/** A case far along: every nullable field set, nothing at its default, updatedAt after reportedAt. */
function closedCase(): Case {
  const c = clone(REPORTED)
  Object.assign(c, {
    status: 'rated',
    address: '金华市婺城区新狮街道后垄路 18 号',
    assigneeId: 'w-000123',
    department: 'municipal_gardens',
    dueAt: '2026-11-22T09:30:00.000Z',
    timeLeftSeconds: -3600,
    overdue: true,
    escalations: 2,
    selfHandled: true,
    supporters: 3,
    owningLevel: 2,
    rating: 4,
    ratingComment: '处理及时',
    reopenRequestedAt: '2026-11-23T09:00:00.000Z',
    mergedInto: '0b5f4f36-8c2d-4a5e-9a57-2f6a1c1e9d10',
    madeAt: '2026-11-21T15:20:00.000Z',
    updatedAt: '2026-11-23T08:00:00.000Z',
    version: 9,
  })
  c.stages = {
    registeredAt: '2026-11-21T15:29:45.804Z',
    dispatchedAt: '2026-11-21T15:31:00.000Z',
    acceptedAt: '2026-11-21T16:00:00.000Z',
    handledAt: '2026-11-22T10:00:00.000Z',
    verifiedAt: '2026-11-22T11:00:00.000Z',
    closedAt: '2026-11-22T12:00:00.000Z',
    ratedAt: '2026-11-23T08:00:00.000Z',
  }
  return c
}

const created = (c: Case, seq = 41): FrameEvent => ({ case: c, seq, kind: 'case:created' }) as FrameEvent
const updated = (p: { case: Case; entry: TimelineEntry; action: string }, seq = 42): FrameEvent => ({ ...p, seq, kind: 'case:updated' }) as FrameEvent
/** As the client gets it: compacted, sent as JSON, parsed, expanded. */
const roundTrip = (e: FrameEvent): FrameEvent => expandEvent(JSON.parse(JSON.stringify(compactEvent(e))) as WireEvent)
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v))

describe('the wire form of events', () => {
  it('fixtures are valid cases and entries (the round trip is promised for those)', () => {
    for (const c of [REPORTED, REGISTERED.case, closedCase(), nullEverything(REPORTED, CaseSchema)]) expect(Value.Check(CaseSchema, c)).toBe(true)
    expect(Value.Check(TimelineEntrySchema, REGISTERED.entry)).toBe(true)
  })

  it('a new case, as intake logs it: expanded deep-equal, at least 25 % fewer bytes, no null on the wire', () => {
    const e = created(REPORTED)
    const wire = compactEvent(e)
    expect(roundTrip(e)).toStrictEqual(e)
    const before = bytes(e)
    const after = bytes(wire)
    console.log(`case:created ${before} → ${after} bytes (case alone ${bytes(REPORTED)} → ${bytes((wire as { case: unknown }).case)}), ${((1 - after / before) * 100).toFixed(1)} % less`)
    expect(after).toBeLessThanOrEqual(before * 0.75)
    expect(JSON.stringify(wire)).not.toContain('null')
    // What is left out: nulls, defaults, copies; stages (all null) whole.
    const c = (wire as { case: Record<string, unknown> }).case
    for (const k of ['address', 'assigneeId', 'mergedInto', 'madeAt', 'rating', 'ratingComment', 'reopenRequestedAt', 'overdue', 'escalations', 'selfHandled', 'supporters', 'updatedAt', 'stages']) expect(c).not.toHaveProperty(k)
    expect(c.regions).toEqual(REPORTED.regions.map(({ id, name }) => ({ id, name })))
  })

  it('every nullable field of the schema null: all restored', () => {
    const bare = nullEverything(REPORTED, CaseSchema)
    expect(bare.stages.registeredAt).toBeNull()
    expect(bare.dueAt).toBeNull()
    expect(bare.reporter).toBeNull()
    const e = created(bare)
    expect(roundTrip(e)).toStrictEqual(e)
    expect(JSON.stringify(compactEvent(e))).not.toContain('null')

    const entry = nullEverything(REGISTERED.entry, TimelineEntrySchema)
    const u = updated({ case: bare, entry, action: 'register' })
    expect(roundTrip(u)).toStrictEqual(u)
    expect(JSON.stringify(compactEvent(u))).not.toContain('null')
  })

  it('every field set, none at its default, no copies: all kept and restored', () => {
    const c = closedCase()
    const e = created(c)
    expect(roundTrip(e)).toStrictEqual(e)
    const wire = (compactEvent(e) as { case: Record<string, unknown> }).case
    // Only the regions' levels (their place in the chain) are left out.
    expect(Object.keys(wire).sort()).toEqual(Object.keys(c).sort())
    expect(wire.stages).toEqual(c.stages)
  })

  it('a case:updated: the case, its timeline entry and the action', () => {
    const e = updated(REGISTERED)
    expect(roundTrip(e)).toStrictEqual(e)
    const wire = compactEvent(e) as unknown as { action?: string; entry: Record<string, unknown>; case: Record<string, unknown> }
    expect(wire).not.toHaveProperty('action') // = entry.action
    expect(wire.entry).not.toHaveProperty('at') // = case.updatedAt
    expect(wire.entry).not.toHaveProperty('attachments')
    expect(wire.entry.data).toEqual({ category: 'sanitation', priority: 'normal' })
    expect(wire.case.stages).toEqual({ registeredAt: '2026-11-21T15:29:45.804Z' })
    console.log(`case:updated ${bytes(e)} → ${bytes(wire)} bytes`)
    expect(bytes(wire)).toBeLessThanOrEqual(bytes(e) * 0.75)

    // An escalation by the clock on a case far along: everything set in the entry too.
    const entry: TimelineEntry = {
      id: 77,
      at: '2026-11-23T08:00:00.000Z',
      actor: 'system',
      action: 'escalate',
      fromStatus: 'dispatched',
      toStatus: 'dispatched',
      fromLevel: 3,
      toLevel: 2,
      note: '超时自动升级',
      attachments: ['/api/photos/0b5f4f36-8c2d-4a5e-9a57-2f6a1c1e9d10'],
      data: { trigger: 'overdue' },
    }
    const full = updated({ case: closedCase(), entry, action: 'escalate' })
    expect(roundTrip(full)).toStrictEqual(full)
    // Copies only when they are copies: an entry older than the case's update, an action other than the entry's.
    const odd = updated({ case: closedCase(), entry: { ...entry, at: '2026-11-20T00:00:00.000Z', action: 'note' }, action: 'overdue' })
    expect(roundTrip(odd)).toStrictEqual(odd)
    const oddWire = compactEvent(odd) as unknown as { action?: string; entry: Record<string, unknown> }
    expect(oddWire.action).toBe('overdue')
    expect(oddWire.entry.at).toBe('2026-11-20T00:00:00.000Z')
  })

  it('regions: a level is left out only where it is the region’s place in the chain', () => {
    const c = clone(REPORTED)
    c.regions = [c.regions[0], { ...c.regions[3] }, c.regions[4]] // district, grid, micro-grid: levels 1, 4, 5
    const e = created(c)
    expect(roundTrip(e)).toStrictEqual(e)
    expect((compactEvent(e) as { case: Case }).case.regions.map((r) => r.level)).toEqual([undefined, 4, 5])
  })

  it('compacting leaves the server’s event as it was; expanding fills the received event in place, with its own defaults', () => {
    const e = updated(REGISTERED)
    const before = clone(e)
    const text = JSON.stringify(compactEvent(e))
    expect(e).toStrictEqual(before)
    const wa = JSON.parse(text) as WireEvent
    const a = expandEvent(wa) as Extract<FrameEvent, { kind: 'case:updated' }>
    expect(a).toBe(wa)
    const b = expandEvent(JSON.parse(text) as WireEvent) as Extract<FrameEvent, { kind: 'case:updated' }>
    expect(a.entry.attachments).not.toBe(b.entry.attachments)
    a.entry.attachments.push('x')
    expect(b.entry.attachments).toEqual([])
    // Expanding twice changes nothing.
    expect(expandEvent(clone(b) as unknown as WireEvent)).toStrictEqual(b)
  })

  it('an event that is already whole expands to itself; other kinds travel as they are', () => {
    const e = created(REPORTED)
    expect(expandEvent(clone(e) as unknown as WireEvent)).toStrictEqual(e)
    const moved = { kind: 'workers:moved', seq: 7, regionId: null, positions: [['w-1', 119.64, 29.08, 1_700_000_000_000, 'on_duty', null]] } as unknown as FrameEvent
    expect(compactEvent(moved)).toBe(moved)
    expect(expandEvent(moved as unknown as WireEvent)).toBe(moved)
  })

  it('keeps a frame readable: the bench’s light dashboards find "description":"…" in the raw text', () => {
    const c = { ...clone(REPORTED), description: 'bench 7 #42' }
    expect(JSON.stringify([compactEvent(created(c))])).toMatch(/"description":"bench 7 #42"/)
  })

  it('follows the schema: a nullable field added to it is left out and restored with no change to wire.ts', () => {
    const schema = Type.Object({ ...CaseSchema.properties, closedBy: Type.Union([Type.String(), Type.Null()]), reopened: Type.Integer({ default: 0 }) })
    const shape = shapeOf(schema)
    const c = { ...clone(REPORTED), closedBy: null, reopened: 0 }
    const wire = compactObject(c, shape)
    expect(wire).not.toHaveProperty('closedBy')
    expect(wire).not.toHaveProperty('reopened')
    expect(expandObject(JSON.parse(JSON.stringify(wire)), shape)).toStrictEqual(c)
  })

  it('refuses a derived field the schema does not have (a rename cannot go unnoticed)', () => {
    expect(() => shapeOf(CaseSchema, { updatedAtt: (c) => c.reportedAt })).toThrow(/updatedAtt/)
    expect(() => shapeOf(CaseSchema, { 'regions.lvl': (_r, i) => i + 1 })).toThrow(/regions\.lvl/)
  })
})

/**
 * The compact wire form of the log's events (issue #5): a case event used to carry the whole case, every null and
 * every default spelled out, and bytes per event are what the server writes to every socket and every dashboard
 * decodes. The server compacts each event once (frame hub, as it takes the event from the log: live and replayed
 * alike); stream.ts expands each event before its handlers see it. The round trip is exact: the expanded event is
 * deep-equal to the server's (for any payload whose case and entry have every field of their schema).
 *
 * The rule: a field is left out when it holds the value the client restores it to,
 *   - null, for a nullable field of the schema (CaseSchema, TimelineEntrySchema: read from the schema here, so a
 *     field added there is covered without a change here);
 *   - the schema's `default` (a case's overdue false and escalations 0, an entry's attachments [] and data {});
 *   - a copy of another field (`CASE_DERIVED`, `SHAPES` below): a case's updatedAt = its reportedAt (a new case); a region's level =
 *     its place in `regions` + 1 (district first); in `case:updated`, entry.at = case.updatedAt and action =
 *     entry.action;
 * and a nested object whose fields are all left out (a new case's stages) is left out whole. Nothing is renamed or
 * reordered, and fields the schema does not know travel as they are: a frame stays readable JSON (the bench's light
 * dashboards find `"description":"…"` in the raw text). Kinds other than the case events are not touched.
 */
import type { TSchema } from 'typebox'
import { Type } from 'typebox'
import { CaseSchema, TimelineEntrySchema } from '../schemas/case.ts'
import type { CompactKind, FrameEvent, WireEvent } from './events.ts'

type Obj = Record<string, unknown>
/** The value of a field that was left out, from what the client has: its parent object, its index (in an array), the event. */
type Derive = (parent: Obj, index: number, event: Obj) => unknown

interface Field {
  key: string
  required: boolean
  /** From the schema: null (nullable) or the `default`. Restored before anything else. */
  fixed?: { value: unknown }
  /** A copy of another field; restored after the nested objects (it may read one of them). */
  derived?: Derive
  /** A plain object: its fields are compacted in turn. */
  object?: Shape
  /** An array of objects: each item is compacted in turn. */
  items?: Shape
}

export interface Shape {
  byKey: Map<string, Field>
  fixed: Field[]
  nested: Field[]
  derived: Field[]
}

/** A JSON Schema (TypeBox builds plain ones) as far as this file reads it. */
interface SchemaLike {
  type?: string | string[]
  properties?: Record<string, SchemaLike>
  required?: string[]
  items?: SchemaLike
  anyOf?: SchemaLike[]
  oneOf?: SchemaLike[]
  default?: unknown
}

function nullable(s: SchemaLike): boolean {
  if (s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'))) return true
  return (s.anyOf ?? s.oneOf ?? []).some(nullable)
}

const isObjectSchema = (s: SchemaLike | undefined): boolean => !!s && s.type === 'object' && !!s.properties

/**
 * The compaction rules of an object schema: every property's implied value (null, the default, or `derive`'s, keyed
 * by dotted path; an array's items are `array.field`) and its nested objects. A `derive` path that names no property
 * of the schema throws: a renamed field cannot silently stop being compacted, or be restored wrong.
 */
export function shapeOf(schema: TSchema, derive: Record<string, Derive> = {}): Shape {
  const used = new Set<string>()
  const shape = build(schema as SchemaLike, derive, '', used)
  const unknown = Object.keys(derive).filter((p) => !used.has(p))
  if (unknown.length) throw new Error(`wire: derived field(s) not in the schema: ${unknown.join(', ')}`)
  return shape
}

function build(schema: SchemaLike, derive: Record<string, Derive>, path: string, used: Set<string>): Shape {
  const required = new Set(schema.required ?? [])
  const shape: Shape = { byKey: new Map(), fixed: [], nested: [], derived: [] }
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const at = path + key
    const f: Field = { key, required: required.has(key) }
    if (derive[at]) {
      f.derived = derive[at]
      used.add(at)
    } else if ('default' in prop) f.fixed = { value: prop.default }
    else if (nullable(prop)) f.fixed = { value: null }
    if (isObjectSchema(prop)) f.object = build(prop, derive, `${at}.`, used)
    else if (prop.type === 'array' && isObjectSchema(prop.items)) f.items = build(prop.items!, derive, `${at}.`, used)
    shape.byKey.set(key, f)
    if (f.fixed) shape.fixed.push(f)
    if (f.object || f.items) shape.nested.push(f)
    if (f.derived) shape.derived.push(f)
  }
  return shape
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Deep equality of JSON values. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!Object.hasOwn(b, k) || !same((a as Obj)[k], (b as Obj)[k])) return false
  return true
}

/** A fresh copy of a default ([] and {} must not be shared between events). */
function copy(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0) return Array.isArray(v) ? [] : {}
  return structuredClone(v)
}

/** Leaves out what `expandObject` restores; `o` is not changed. */
export function compactObject(o: Obj, shape: Shape, index = 0, event: Obj = o): Obj {
  const out: Obj = {}
  for (const key in o) {
    const v = o[key]
    const f = shape.byKey.get(key)
    if (!f) {
      out[key] = v
      continue
    }
    if (f.fixed ? same(v, f.fixed.value) : f.derived ? same(v, f.derived(o, index, event)) : false) continue
    if (f.object && isObj(v)) {
      const c = compactObject(v, f.object, 0, event)
      // Empty: every field is restored from nothing (only for a required field, which is always there).
      if (f.required && Object.keys(c).length === 0) continue
      out[key] = c
    } else if (f.items && Array.isArray(v)) out[key] = v.map((x, i) => (isObj(x) ? compactObject(x, f.items!, i, event) : x))
    else out[key] = v
  }
  return out
}

/**
 * Restores, IN PLACE, what `compactObject` left out, and returns `o` (a client's frame is its own, fresh from
 * JSON.parse: filling it costs about a third of copying it). Order: the schema's values, nested objects, copies.
 */
export function expandObject(o: Obj, shape: Shape, index = 0, event?: Obj): Obj {
  const ev = event ?? o
  for (const f of shape.fixed) if (!(f.key in o)) o[f.key] = copy(f.fixed!.value)
  for (const f of shape.nested) {
    const v = o[f.key]
    if (f.object) {
      if (isObj(v)) expandObject(v, f.object, 0, ev)
      else if (v === undefined && f.required) o[f.key] = expandObject({}, f.object, 0, ev)
    } else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) if (isObj(v[i])) expandObject(v[i] as Obj, f.items!, i, ev)
  }
  for (const f of shape.derived) if (!(f.key in o)) o[f.key] = f.derived!(o, index, ev)
  return o
}

const field = (o: Obj, key: string): Obj => (isObj(o[key]) ? (o[key] as Obj) : {})

/**
 * Fields that are copies of others (see the top). Paths are dotted; an array's items are `array.field`. A copy may
 * read only what is restored before it: a field never left out (reportedAt), its index, or an object declared earlier.
 */
const CASE_DERIVED: Record<string, Derive> = {
  updatedAt: (c) => c.reportedAt,
  'regions.level': (_r, i) => i + 1,
}
const prefixed = (prefix: string, d: Record<string, Derive>) => Object.fromEntries(Object.entries(d).map(([k, f]) => [prefix + k, f]))

/**
 * Per compacted kind, the shape of its payload. The objects are declared in the order they are restored: `entry.at`
 * reads the case, restored before it.
 */
const SHAPES = new Map<string, Shape>(
  Object.entries({
    'case:created': shapeOf(Type.Object({ case: CaseSchema }), prefixed('case.', CASE_DERIVED)),
    'case:updated': shapeOf(Type.Object({ case: CaseSchema, entry: TimelineEntrySchema, action: Type.String() }), {
      ...prefixed('case.', CASE_DERIVED),
      'entry.at': (_entry, _i, ev) => field(ev, 'case').updatedAt,
      action: (ev) => field(ev, 'entry').action,
    }),
  } satisfies Record<CompactKind, Shape>),
)

/** The server's side: once per event (the frame hub), never per socket. */
export function compactEvent(e: FrameEvent): WireEvent {
  const shape = SHAPES.get(e.kind)
  return (shape ? compactObject(e as unknown as Obj, shape) : e) as WireEvent
}

/**
 * The client's side (stream.ts): the event exactly as the server had it, filled in place (the same object comes
 * back). An event that is already whole is left as it is.
 */
export function expandEvent(e: WireEvent): FrameEvent {
  const shape = SHAPES.get(e.kind)
  return (shape ? expandObject(e as unknown as Obj, shape) : e) as FrameEvent
}

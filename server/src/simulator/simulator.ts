/**
 * The demo feed, run through the same services as real users (every step validated, versioned, logged and pushed):
 * cases arrive as a Poisson process whose rate follows a day/night curve (Asia/Shanghai) and a category mix from
 * the field reports; simulated grid workers accept and handle them after realistic delays; a different person
 * verifies; the centre closes; reporters rate (a few badly, some of those reopen); a share stalls and is escalated by
 * the clock (short 24×7 limits) or by a whistle. Progress is read back from the database on every tick, so a restart
 * carries on where it stopped. `SIM_RATE` scales arrivals (1 = lively demo, 100 = load test).
 */
import { categoryInfo, CATEGORY_DEFINITIONS } from '../../../shared/domain/categories.ts'
import type { CaseAction, CaseSource, Priority } from '../../../shared/domain/case-lifecycle.ts'
import type { Db } from '../db/types.ts'
import { findPossibleDuplicates } from '../repos/cases.ts'
import { performAction, reportCase } from '../services/cases.ts'
import { HttpError } from '../services/http-error.ts'
import { hash01 } from '../../../shared/util/random.ts'

/** Reporter ids of simulated cases start with this (how the simulator finds its own cases again). */
export const SIM_PREFIX = 'sim-'

/** Share of arrivals that report a problem already reported (the dispatcher merges them). */
const DUPLICATE_SHARE = 0.03

/** Cases per minute at the daytime peak when SIM_RATE = 1. */
export const BASE_PER_MINUTE = 6

/** Relative intake by hour of day (Asia/Shanghai): quiet nights, a morning and an afternoon peak. */
const HOURLY = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 0.95, 1, 1, 0.9, 0.7, 0.8, 0.95, 1, 0.95, 0.85, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]

/** Family shares of intake, after the field reports (市容/环卫 lead; safety and disputes next). */
const FAMILY_MIX: Record<string, number> = {
  city_appearance: 22, sanitation: 18, public_facilities: 14, safety_hazard: 9, dispute: 8, public_security: 4,
  traffic_parking: 11, livelihood: 9, flood_typhoon: 2, epidemic: 1, enterprise: 2,
}

const SOURCE_MIX: Array<[CaseSource, number]> = [['grid_worker', 58], ['resident', 20], ['patrol', 8], ['camera', 6], ['hotline', 8]]

const DESCRIPTIONS: Record<string, string[]> = {
  city_appearance: ['沿街店铺占道经营', '墙面乱张贴小广告', '广告牌破损悬挂', '违章搭建彩钢棚'],
  sanitation: ['垃圾桶满溢未清运', '河道漂浮垃圾', '小区楼道堆放杂物'],
  public_facilities: ['路灯不亮', '窨井盖缺失', '供水管道破裂漏水', '人行道板松动'],
  safety_hazard: ['电梯困人', '楼道电动车充电', '燃气管道有异味', '危房外墙开裂', '消防通道堆放杂物'],
  dispute: ['邻里噪音纠纷', '物业费用纠纷', '房屋漏水邻里矛盾', '拖欠工资'],
  public_security: ['可疑人员徘徊', '夜间聚集喧哗'],
  traffic_parking: ['机动车违停占用消防通道', '共享单车乱停放', '交通信号灯故障'],
  livelihood: ['独居老人需要上门帮助', '代办社保业务', '低保申请咨询'],
  flood_typhoon: ['地下通道积水', '低洼地段排水不畅'],
  epidemic: ['发热人员上报'],
  enterprise: ['企业用工问题反映', '企业用电报修'],
}

const RANDOM_POINT_IN_RANDOM_GRID = `
  WITH g AS (SELECT geom FROM regions WHERE level = 4 AND valid_to IS NULL ORDER BY random() LIMIT 1)
  SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM g, LATERAL ST_GeometryN(ST_GeneratePoints(g.geom, 1), 1) AS p`

/** A deterministic number in [0, 1) from a case id and a salt: the same case always gets the same plan. */
export const planDraw = (id: string, salt: number): number => hash01(id, salt)

export interface SimStep {
  action: CaseAction
  /** Seconds after the case's last change. */
  afterSeconds: number
  body: Record<string, unknown>
  actor: 'assignee' | 'verifier' | 'centre' | 'reporter' | 'chief'
}

/**
 * What happens next to a simulated case in `status`, or null when it waits (stalled, or waiting for the clock).
 * Pure: depends on the case id (its plan), its status and how many times it went round.
 */
export function nextStep(id: string, status: string, c: { rating: number | null; escalations: number; category: string }): SimStep | null {
  const d = (salt: number) => planDraw(id, salt)
  const secs = (salt: number, min: number, max: number) => Math.round(min + d(salt) * (max - min))
  const stalls = d(1) < 0.07 // never accepted: the clock escalates it
  switch (status) {
    case 'reported':
      return d(2) < 0.04
        ? { action: 'reject', afterSeconds: secs(3, 20, 90), body: { reason: '经核实不属于网格受理范围' }, actor: 'centre' }
        : { action: 'register', afterSeconds: secs(3, 15, 90), body: { note: '经核实，予以立案' }, actor: 'centre' }
    case 'registered':
      return { action: 'dispatch', afterSeconds: secs(4, 10, 60), body: {}, actor: 'centre' }
    case 'dispatched':
      if (stalls && c.escalations === 0) return null
      return { action: 'accept', afterSeconds: secs(5, 15, 150), body: {}, actor: 'assignee' }
    case 'in_progress':
      if (d(6) < 0.04 && c.escalations === 0) {
        return { action: 'escalate', afterSeconds: secs(7, 30, 120), body: { reason: '本级力量不足，吹哨上报' }, actor: 'chief' }
      }
      return { action: 'handle', afterSeconds: secs(8, 60, 480), body: { note: '已到现场处置完毕' }, actor: 'assignee' }
    case 'handled':
      return d(9) < 0.08 && c.rating === null
        ? { action: 'send_back', afterSeconds: secs(10, 30, 180), body: { reason: '核查发现问题仍未解决' }, actor: 'verifier' }
        : { action: 'verify', afterSeconds: secs(10, 30, 180), body: { note: '现场核查属实' }, actor: 'verifier' }
    case 'verified':
      return { action: 'close', afterSeconds: secs(11, 10, 60), body: {}, actor: 'centre' }
    case 'closed': {
      if (d(12) > 0.7) return null // not every reporter rates
      const r = d(13)
      const rating = r < 0.05 ? 2 : r < 0.15 ? 3 : r < 0.45 ? 4 : 5
      return { action: 'rate', afterSeconds: secs(14, 30, 300), body: { rating, comment: rating >= 4 ? '处理及时，满意' : '处理太慢' }, actor: 'reporter' }
    }
    case 'rated':
      return c.rating !== null && c.rating <= 2 && d(15) < 0.5
        ? { action: 'reopen', afterSeconds: secs(16, 30, 120), body: { reason: '群众不满意，重新办理' }, actor: 'centre' }
        : null
    default:
      return null
  }
}

function weighted<T>(items: Array<[T, number]>, u: number): T {
  const total = items.reduce((s, [, w]) => s + w, 0)
  let x = u * total
  for (const [v, w] of items) if ((x -= w) < 0) return v
  return items[items.length - 1][0]
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]

/** A category code: a family by the mix, then the family or one of its children. */
function randomCategory(): string {
  const family = weighted(Object.entries(FAMILY_MIX), Math.random())
  const options = CATEGORY_DEFINITIONS.filter((c) => c.family === family)
  return pick(options).code
}

/** Cases per second now, for SIM_RATE = rate. */
export function arrivalRate(at: Date, rate: number): number {
  const hour = (at.getUTCHours() + 8) % 24
  return (BASE_PER_MINUTE * rate * HOURLY[hour]) / 60
}

interface SimCase {
  id: string
  lon: number
  lat: number
  reportedAt: Date
  status: string
  version: number
  updatedAt: Date
  rating: number | null
  escalations: number
  category: string
  reporter: string
  assigneeId: string | null
  gridId: string | null
  department: string | null
}

export interface SimulatorOptions {
  /** Arrival multiplier (SIM_RATE). */
  rate: number
  /** How often the loop advances simulated cases. */
  tickMs?: number
  log: { error: (o: unknown, msg?: string) => void; info?: (o: unknown, msg?: string) => void }
  now?: () => Date
  /** No timers: the caller drives arrive() and advance() (tests). */
  manual?: boolean
}

export interface Simulator {
  stop(): Promise<void>
  /** One arrival (tests and the first case after start). */
  arrive(): Promise<void>
  /** Advances every simulated case whose next step is due; returns how many steps ran. */
  advance(): Promise<number>
}

export function startSimulator(db: Db, opts: SimulatorOptions): Simulator {
  const now = opts.now ?? (() => new Date())
  const tickMs = opts.tickMs ?? 2000
  let stopped = false
  let arrivalTimer: ReturnType<typeof setTimeout> | undefined
  let seq = 0

  async function arrive(): Promise<void> {
    // A few reports are the same problem seen again by somebody else: a few metres from an open case of the last hour.
    if (Math.random() < DUPLICATE_SHARE) {
      const { rows: open } = await db.query<{ lon: number; lat: number; category: string }>(
        `SELECT ST_X(location) AS lon, ST_Y(location) AS lat, category FROM cases
          WHERE reporter LIKE '${SIM_PREFIX}%' AND status IN ('reported', 'registered', 'dispatched', 'in_progress')
            AND reported_at > $1::timestamptz - interval '1 hour'
          ORDER BY random() LIMIT 1`,
        [now()],
      )
      if (open[0]) {
        const o = open[0]
        const info = categoryInfo(o.category)!
        await reportCase(
          db,
          { category: o.category, description: `${pick(DESCRIPTIONS[info.family] ?? ['群众反映问题'])}（重复反映）`, lon: o.lon + (Math.random() - 0.5) * 2e-4, lat: o.lat + (Math.random() - 0.5) * 2e-4, source: 'resident' },
          { reporter: `${SIM_PREFIX}resident-${(seq++ % 997) + 1}`, now: now() },
        )
        return
      }
    }
    const { rows } = await db.query<{ lon: number; lat: number }>(RANDOM_POINT_IN_RANDOM_GRID)
    if (rows.length === 0) return
    const category = randomCategory()
    const info = categoryInfo(category)!
    const source = weighted(SOURCE_MIX, Math.random())
    // Urgent 24×7 cases have short limits: left alone (a stalled plan) they climb a level within the hour.
    const priority: Priority | undefined = info.clock === '24x7' && Math.random() < 0.3 ? 'urgent' : undefined
    await reportCase(
      db,
      { category, description: pick(DESCRIPTIONS[info.family] ?? ['群众反映问题']), lon: rows[0].lon, lat: rows[0].lat, source, ...(priority ? { priority } : {}) },
      { reporter: `${SIM_PREFIX}${source}-${(seq++ % 997) + 1}`, now: now() },
    )
  }

  function scheduleArrival(): void {
    if (stopped) return
    const lambda = arrivalRate(now(), opts.rate)
    const waitMs = lambda > 0 ? (-Math.log(1 - Math.random()) / lambda) * 1000 : 60_000
    arrivalTimer = setTimeout(() => {
      arrive()
        .catch((err) => opts.log.error(err, 'simulator arrival failed'))
        .finally(scheduleArrival)
    }, Math.min(waitMs, 10 * 60_000))
  }

  async function actorFor(c: SimCase, who: SimStep['actor']): Promise<string> {
    switch (who) {
      case 'assignee':
        return c.assigneeId ?? `${SIM_PREFIX}worker`
      case 'verifier':
        return `${SIM_PREFIX}verifier-${c.gridId ?? 'x'}`
      case 'centre':
        return `${SIM_PREFIX}centre`
      case 'reporter':
        return c.reporter
      case 'chief':
        return `${SIM_PREFIX}chief-${c.gridId ?? 'x'}`
    }
  }

  async function advance(): Promise<number> {
    const { rows } = await db.query<SimCase>(
      `SELECT id, status, version, updated_at AS "updatedAt", rating, escalations, category, reporter,
              ST_X(location) AS lon, ST_Y(location) AS lat, reported_at AS "reportedAt",
              assignee_id AS "assigneeId", grid_id AS "gridId", department
         FROM cases
        WHERE reporter LIKE '${SIM_PREFIX}%' AND status NOT IN ('rejected', 'merged')
          AND (status <> 'rated' OR rating <= 2)
          AND updated_at > $1::timestamptz - interval '2 days'
        ORDER BY updated_at
        LIMIT 2000`,
      [now()],
    )
    let steps = 0
    for (const c of rows) {
      if (stopped) break
      const step = nextStep(c.id, c.status, c)
      if (!step || now().getTime() - new Date(c.updatedAt).getTime() < step.afterSeconds * 1000) continue
      let body = step.body
      let action = step.action
      if (c.status === 'reported') {
        // The centre checks for an open report of the same problem before registering: a duplicate is merged.
        const dup = await findPossibleDuplicates(db, { id: c.id, category: c.category, lon: c.lon, lat: c.lat, at: new Date(c.reportedAt) })
        const target = dup.find((d) => new Date(d.reportedAt) < new Date(c.reportedAt))
        if (target) {
          action = 'merge'
          body = { into: target.id, note: `与 ${target.code} 为同一问题` }
        }
      }
      if (action === 'dispatch') {
        const w = await db.query<{ id: string }>(
          `SELECT id FROM workers WHERE region_id = $1 AND role IN ('grid_worker', 'grid_chief') ORDER BY md5(id || $2) LIMIT 1`,
          [c.gridId, c.id],
        )
        body = { department: c.department ?? categoryInfo(c.category)?.department, ...(w.rows[0] ? { assigneeId: w.rows[0].id } : {}) }
      }
      try {
        await performAction(db, c.id, action, { ...body, version: c.version }, { actor: await actorFor(c, step.actor), now: now() })
        steps++
      } catch (err) {
        // A person got there first (412) or the state moved on (409): the next tick re-reads it.
        if (!(err instanceof HttpError && [409, 412].includes(err.statusCode))) throw err
      }
    }
    return steps
  }

  let advancing = false
  const timer = opts.manual
    ? undefined
    : setInterval(() => {
        if (advancing || stopped) return
        advancing = true
        advance()
          .catch((err) => opts.log.error(err, 'simulator advance failed'))
          .finally(() => (advancing = false))
      }, tickMs)
  timer?.unref()
  if (!opts.manual) scheduleArrival()

  return {
    arrive,
    advance,
    async stop() {
      stopped = true
      clearTimeout(arrivalTimer)
      clearInterval(timer)
      while (advancing) await new Promise((r) => setTimeout(r, 20))
    },
  }
}

import type { TimeLimit } from '../../../../shared/domain/calendar.ts'
import type { Priority } from '../../../../shared/domain/case-lifecycle.ts'
import { FINAL_STATUSES, STATUS_NAMES } from '../../../../shared/domain/case-status.ts'
import type { Queryable } from '../../db/types.ts'
import { CASE_COLUMNS, toCase, type CaseRow } from '../../repos/cases.ts'
import { photoUrl } from '../../repos/photos.ts'
import type { CaseRef, Locale, RequestsFilter } from './input.ts'
import type { Open311Request, Service } from './schemas.ts'
import { SqlBuilder } from '../../repos/sql.ts'
import { coarse, isSensitiveCategory } from '../../auth/public-data.ts'

// ---- services: the active categories ----------------------------------------------------------------------------

export interface ServiceRow {
  code: string
  parent: string | null
  zh: string
  en: string
  familyZh: string
  familyEn: string
  departmentZh: string | null
  departmentEn: string | null
  priority: Priority
  limits: Record<Priority, TimeLimit>
}

const SERVICE_SQL = `
  SELECT c.code, c.parent_code AS parent, c.name_zh AS zh, c.name_en AS en, f.name_zh AS "familyZh", f.name_en AS "familyEn",
         d.name_zh AS "departmentZh", d.name_en AS "departmentEn", c.priority, c.limits
    FROM categories c
    JOIN categories f ON f.code = c.family
    LEFT JOIN departments d ON d.code = c.department
   WHERE c.active`

export async function listServiceRows(q: Queryable): Promise<ServiceRow[]> {
  const { rows } = await q.query<ServiceRow>(`${SERVICE_SQL} ORDER BY c.sort, c.code`)
  return rows
}

export async function getServiceRow(q: Queryable, code: string): Promise<ServiceRow | undefined> {
  const { rows } = await q.query<ServiceRow>(`${SERVICE_SQL} AND c.code = $1`, [code])
  return rows[0]
}

function limitText(l: TimeLimit, locale: Locale): string {
  const units = {
    hours: { zh: '小时', en: 'hours' },
    working_hours: { zh: '个工作小时', en: 'working hours' },
    working_days: { zh: '个工作日', en: 'working days' },
  }[l.unit] ?? { zh: l.unit, en: l.unit }
  return locale === 'zh' ? `${l.amount} ${units.zh}` : `${l.amount} ${units.en}`
}

export function toService(row: ServiceRow, locale: Locale): Service {
  const name = locale === 'zh' ? row.zh : row.en
  const family = locale === 'zh' ? row.familyZh : row.familyEn
  const dept = (locale === 'zh' ? row.departmentZh : row.departmentEn) ?? row.code
  const limit = row.limits[row.priority] ? limitText(row.limits[row.priority], locale) : null
  const path = row.parent ? `${family} › ${name}` : name
  const description =
    locale === 'zh'
      ? `${path}（主管部门：${dept}${limit ? `；处置时限：${limit}` : ''}）`
      : `${path} (handled by ${dept}${limit ? `; time limit ${limit}` : ''})`
  const keywords = [...new Set([row.zh, row.en, row.familyZh, row.familyEn, row.code])]
  if (locale === 'en') keywords.sort((a, b) => Number(/[^\x00-\x7f]/.test(a)) - Number(/[^\x00-\x7f]/.test(b)))
  return {
    service_code: row.code,
    service_name: name,
    description,
    metadata: false,
    type: 'realtime',
    keywords: keywords.join(', '),
    group: family,
  }
}

// ---- requests: cases in the spec's shape --------------------------------------------------------------------------

interface RequestRow extends CaseRow {
  serviceZh: string | null
  serviceEn: string | null
  agencyZh: string | null
  agencyEn: string | null
  mergedIntoCode: string | null
  latestNote: string | null
  mergeNote: string | null
  photoId: string | null
  submittedMediaUrl: string | null
}

/**
 * The Open311 intake record (a timeline `note` by actor `open311` whose data has an `open311` member: contact
 * details and the media_url as sent) is for staff; it never becomes the public status_notes.
 */
const REQUEST_SQL = `
  SELECT ${CASE_COLUMNS},
         cat.name_zh AS "serviceZh", cat.name_en AS "serviceEn", d.name_zh AS "agencyZh", d.name_en AS "agencyEn",
         m.code AS "mergedIntoCode",
         (SELECT e.note FROM case_events e
           WHERE e.case_id = c.id AND e.note IS NOT NULL AND e.data->'open311' IS NULL
           ORDER BY e.at DESC, e.id DESC LIMIT 1) AS "latestNote",
         (SELECT e.note FROM case_events e
           WHERE e.case_id = c.id AND e.action = 'merge' ORDER BY e.at DESC, e.id DESC LIMIT 1) AS "mergeNote",
         (SELECT p.id FROM photos p WHERE p.case_id = c.id ORDER BY p.created_at, p.id LIMIT 1) AS "photoId",
         (SELECT e.data->'open311'->>'media_url' FROM case_events e
           WHERE e.case_id = c.id AND e.data->'open311' IS NOT NULL ORDER BY e.at, e.id LIMIT 1) AS "submittedMediaUrl"
    FROM cases c
    LEFT JOIN categories cat ON cat.code = c.category
    LEFT JOIN departments d ON d.code = c.department
    LEFT JOIN cases m ON m.id = c.merged_into`

export async function findRequestRows(q: Queryable, f: RequestsFilter): Promise<RequestRow[]> {
  const b = new SqlBuilder()
  if (f.refs) {
    const uuids = f.refs.flatMap((r) => ('uuid' in r ? [r.uuid] : []))
    const codes = f.refs.flatMap((r) => ('code' in r ? [r.code] : []))
    b.when(`c.id = ANY(${b.add(uuids)}::uuid[]) OR c.code = ANY(${b.add(codes)}::text[])`)
  } else {
    if (f.serviceCodes) b.when(`c.category = ANY(${b.add(f.serviceCodes)}::text[])`)
    if (f.closed !== undefined) b.when(`${f.closed ? '' : 'NOT '}(c.status = ANY(${b.add(FINAL_STATUSES)}::text[]))`)
    if (f.from) b.when(`c.reported_at >= ${b.add(f.from)}`)
    if (f.to) b.when(`c.reported_at <= ${b.add(f.to)}`)
  }
  const { rows } = await q.query<RequestRow>(
    `${REQUEST_SQL} ${b.where()} ORDER BY c.reported_at DESC, c.code DESC LIMIT ${b.add(f.limit)}`,
    b.params,
  )
  return rows
}

export async function findRequestRow(q: Queryable, ref: CaseRef): Promise<RequestRow | undefined> {
  return (await findRequestRows(q, { refs: [ref], limit: 1 }))[0]
}

const iso = (t: Date | string | null): string | null => (t === null ? null : new Date(t).toISOString())

/** 2026-11-23T08:30:00Z → 2026-11-23 16:30 (Asia/Shanghai, which keeps no summer time). */
function localTime(t: Date | string): string {
  return new Date(new Date(t).getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')
}

/** What happens next, for people: the department in charge and the time limit; null once the request is closed. */
export function serviceNotice(agency: string | null, dueAt: Date | string | null, closed: boolean, locale: Locale): string | null {
  if (closed) return null
  if (locale === 'zh') {
    return `${agency ? `由${agency}负责处置` : '已受理，正在分派'}${dueAt ? `，预计 ${localTime(dueAt)}（北京时间）前处置完毕` : ''}。`
  }
  return `${agency ? `${agency} is in charge` : 'Received and being assigned'}${dueAt ? `; expected to be handled by ${localTime(dueAt)} (China Standard Time)` : ''}.`
}

export interface RenderContext {
  locale: Locale
  /** proto://host of the request, for absolute media URLs. */
  base: string
  now: Date
}

/**
 * A request as the public sees it (Open311 GET is public, whoever asks). Never the reporter, contact details or
 * phone (not selected at all). For a SENSITIVE category (auth/public-data.ts: disputes, public security,
 * livelihood) also not what could identify the people involved: description, status_notes (staff notes) and
 * media_url are null, `address` names only the community and above (never the street address or the grid), and
 * lat/long are rounded to 0.01° (about 1 km). The category, status, times and agency stay: that such a request
 * exists and how it is being handled is public.
 */
export function toRequest(row: RequestRow, ctx: RenderContext): Open311Request {
  const full = toFullRequest(row, ctx)
  if (!isSensitiveCategory(row.category)) return full
  const place = [...row.regions].filter((r) => r.level <= 3).sort((a, b) => b.level - a.level).map((r) => r.name)
  return {
    ...full,
    description: null,
    status_notes: null,
    media_url: null,
    address: place.length ? place.join(', ') : null,
    lat: coarse(row.lat),
    long: coarse(row.lon),
  }
}

function toFullRequest(row: RequestRow, ctx: RenderContext): Open311Request {
  const zh = ctx.locale === 'zh'
  const c = toCase(row, ctx.now)
  const closed = FINAL_STATUSES.includes(row.status)
  const agency = zh ? row.agencyZh : row.agencyEn
  const mergedNote = zh ? `重复问题，已并入 ${row.mergedIntoCode}` : `Duplicate of ${row.mergedIntoCode}`
  const statusNotes = row.status === 'merged' ? (row.mergeNote ?? mergedNote) : row.latestNote
  // Spec: for a closed request updated_datetime is when it was closed.
  const updated = (row.status === 'closed' || row.status === 'rated') && row.closedAt !== null ? row.closedAt : row.updatedAt
  const place = [...row.regions].sort((a, b) => b.level - a.level).map((r) => r.name)
  return {
    service_request_id: row.code,
    status: closed ? 'closed' : 'open',
    status_notes: statusNotes,
    service_name: (zh ? row.serviceZh : row.serviceEn) ?? row.category,
    service_code: row.category,
    description: row.description,
    agency_responsible: agency,
    service_notice: serviceNotice(agency, row.dueAt, closed, ctx.locale),
    requested_datetime: iso(row.reportedAt)!,
    updated_datetime: iso(updated)!,
    expected_datetime: iso(row.dueAt),
    address: row.address ?? (place.length ? place.join(', ') : null),
    address_id: null,
    zipcode: null,
    lat: row.lat,
    long: row.lon,
    media_url: row.photoId ? `${ctx.base}${photoUrl(row.photoId)}` : row.submittedMediaUrl,
    x_gridcommand_id: row.id,
    x_gridcommand_status: row.status,
    x_gridcommand_status_name: STATUS_NAMES[row.status][ctx.locale],
    x_gridcommand_priority: row.priority,
    x_gridcommand_source: row.source,
    x_gridcommand_owning_level: row.owningLevel,
    x_gridcommand_overdue: c.overdue,
    x_gridcommand_department: row.department,
    x_gridcommand_merged_into: row.mergedIntoCode,
  }
}

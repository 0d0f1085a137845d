import { Type } from 'typebox'
import { ErrorSchema } from '../../../../shared/schemas/common.ts'
import { categoryInfo } from '../../../../shared/domain/categories.ts'
import { PRIORITY_NAMES, SOURCE_NAMES } from '../../../../shared/domain/case-lifecycle.ts'
import { STATUS_NAMES } from '../../../../shared/domain/case-status.ts'
import type { Case } from '../../../../shared/schemas/case.ts'
import type { AppInstance } from '../../app-types.ts'
import { listCases } from '../../services/case-reads.ts'
import { scopedCaller } from '../caller.ts'
import { caseFilterOf, ListQuery } from './cases.ts'

/**
 * Case exports (台账导出) — GET /api/exports/cases?format=csv|geojson&lang=zh|en&<the filters of GET /api/cases>.
 *
 * The same filters and the same reach as the list: the caller's scope is a condition of the query, so an export
 * holds exactly what GET /api/cases would page through (AUTH_MODE=token: anonymous 401). Newest first, at most
 * `limit` rows (≤ 100,000; default 50,000); when there are more, `x-next-offset` says where the next file starts.
 *
 * - csv: UTF-8 with a BOM (Excel opens Chinese text right), RFC 4180 quoting, column names and code names in `lang`,
 *   times in Asia/Shanghai. Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get a
 *   leading apostrophe: a resident's description must never become a formula on a clerk's machine.
 * - geojson: a FeatureCollection of points (WGS84), properties = the case as the API returns it.
 */
const ExportQuery = Type.Object(
  {
    ...ListQuery.properties,
    format: Type.Union([Type.Literal('csv'), Type.Literal('geojson')], { default: 'csv' }),
    lang: Type.Union([Type.Literal('zh'), Type.Literal('en')], { default: 'zh' }),
    limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 50_000, description: 'rows, newest first' }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

type Lang = 'zh' | 'en'

const COLUMNS: Array<{ zh: string; en: string; value: (c: Case, lang: Lang) => string | number | null }> = [
  { zh: '案件编号', en: 'Code', value: (c) => c.code },
  { zh: '类别', en: 'Category', value: (c, l) => categoryInfo(c.category)?.[l] ?? c.category },
  { zh: '类别代码', en: 'Category code', value: (c) => c.category },
  { zh: '状态', en: 'Status', value: (c, l) => STATUS_NAMES[c.status][l] },
  { zh: '紧急程度', en: 'Priority', value: (c, l) => PRIORITY_NAMES[c.priority][l] },
  { zh: '来源', en: 'Source', value: (c, l) => SOURCE_NAMES[c.source][l] },
  { zh: '上报时间', en: 'Reported', value: (c) => localTime(c.reportedAt) },
  { zh: '办理时限', en: 'Due', value: (c) => localTime(c.dueAt) },
  { zh: '是否超期', en: 'Overdue', value: (c, l) => (c.overdue ? (l === 'zh' ? '是' : 'yes') : l === 'zh' ? '否' : 'no') },
  { zh: '升级次数', en: 'Escalations', value: (c) => c.escalations },
  { zh: '区县', en: 'District', value: (c) => c.regions.find((r) => r.level === 1)?.name ?? null },
  { zh: '街道/乡镇', en: 'Street/town', value: (c) => c.regions.find((r) => r.level === 2)?.name ?? null },
  { zh: '社区/村', en: 'Community/village', value: (c) => c.regions.find((r) => r.level === 3)?.name ?? null },
  { zh: '网格', en: 'Grid', value: (c) => c.regions.find((r) => r.level === 4)?.name ?? null },
  { zh: '地址', en: 'Address', value: (c) => c.address },
  { zh: '描述', en: 'Description', value: (c) => c.description },
  { zh: '承办人', en: 'Assignee', value: (c) => c.assigneeId },
  { zh: '办结时间', en: 'Closed', value: (c) => localTime(c.stages.closedAt) },
  { zh: '满意度', en: 'Rating', value: (c) => c.rating },
  { zh: '经度', en: 'Longitude', value: (c) => c.lon },
  { zh: '纬度', en: 'Latitude', value: (c) => c.lat },
]

/** ISO time → "2026-11-21 14:05:09" in Asia/Shanghai (UTC+8, no daylight saving). */
function localTime(iso: string | null): string | null {
  if (!iso) return null
  return new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')
}

/** One CSV cell: quoted when needed (RFC 4180), formula-looking text defused. */
export function csvCell(v: string | number | null): string {
  if (v === null) return ''
  if (typeof v === 'number') return String(v)
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export default async function exportRoutes(app: AppInstance) {
  app.get(
    '/api/exports/cases',
    {
      schema: {
        querystring: ExportQuery,
        response: {
          200: {
            description: 'the file (Content-Disposition: attachment); x-next-offset when there are more rows',
            content: {
              'text/csv': { schema: Type.String({ description: 'UTF-8 with a BOM, a header row of column names in `lang`' }) },
              'application/geo+json': {
                schema: Type.Object({
                  type: Type.Literal('FeatureCollection'),
                  features: Type.Array(Type.Unknown({ description: 'a Point feature; properties = the case as GET /api/cases gives it' })),
                }),
              },
            },
          },
          400: ErrorSchema,
          401: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const user = scopedCaller(req)
      const q = req.query
      const filter = caseFilterOf(q, user)
      const now = app.now()
      const { cases, nextOffset } = await listCases(app.db, { ...filter, limit: q.limit, offset: q.offset }, now)
      const stamp = localTime(now.toISOString())!.slice(0, 10).replaceAll('-', '')
      reply.header('cache-control', 'no-store')
      if (nextOffset !== null) reply.header('x-next-offset', String(nextOffset))
      if (q.format === 'geojson') {
        reply.header('content-type', 'application/geo+json; charset=utf-8')
        reply.header('content-disposition', `attachment; filename="cases-${stamp}.geojson"`)
        return reply.send({
          type: 'FeatureCollection',
          features: cases.map((c) => ({ type: 'Feature', id: c.id, geometry: { type: 'Point', coordinates: [c.lon, c.lat] }, properties: c })),
        })
      }
      const lines = [COLUMNS.map((col) => csvCell(col[q.lang])).join(',')]
      for (const c of cases) lines.push(COLUMNS.map((col) => csvCell(col.value(c, q.lang))).join(','))
      reply.header('content-type', 'text/csv; charset=utf-8')
      reply.header('content-disposition', `attachment; filename="cases-${stamp}.csv"; filename*=UTF-8''${encodeURIComponent(q.lang === 'zh' ? `案件台账-${stamp}.csv` : `cases-${stamp}.csv`)}`)
      return reply.send(`\uFEFF${lines.join('\r\n')}\r\n`)
    },
  )
}

import { CATEGORY_DEFINITIONS, DEPARTMENTS } from '../../../shared/domain/categories.ts'
import type { Db } from './types.ts'

/**
 * Loads data/reference/categories.json into `departments` and `categories` (upsert by code) at every start, so an
 * edited file takes effect on restart. Codes no longer in the file are marked inactive, never deleted: old cases
 * keep their category. One transaction.
 */
export async function syncReferenceData(db: Db): Promise<{ departments: number; categories: number }> {
  const departments = DEPARTMENTS.map((d) => ({ code: d.code, zh: d.zh, en: d.en, phone: d.phone ?? null }))
  const categories = CATEGORY_DEFINITIONS.map((c, i) => ({ ...c, sort: i }))
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO departments (code, name_zh, name_en, phone, active)
       SELECT d->>'code', d->>'zh', d->>'en', d->>'phone', true FROM jsonb_array_elements($1::jsonb) d
       ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, phone = EXCLUDED.phone, active = true`,
      [JSON.stringify(departments)],
    )
    await tx.query(`UPDATE departments SET active = false WHERE NOT (code = ANY($1::text[]))`, [departments.map((d) => d.code)])
    await tx.query(
      `INSERT INTO categories (code, family, parent_code, name_zh, name_en, color, department, priority, clock, expected_level, limits, sort, active)
       SELECT c->>'code', c->>'family', c->>'parent', c->>'zh', c->>'en', c->>'color', c->>'department', c->>'priority',
              c->>'clock', (c->>'expectedLevel')::smallint, c->'limits', (c->>'sort')::int, true
         FROM jsonb_array_elements($1::jsonb) c
       ON CONFLICT (code) DO UPDATE SET family = EXCLUDED.family, parent_code = EXCLUDED.parent_code, name_zh = EXCLUDED.name_zh,
         name_en = EXCLUDED.name_en, color = EXCLUDED.color, department = EXCLUDED.department, priority = EXCLUDED.priority,
         clock = EXCLUDED.clock, expected_level = EXCLUDED.expected_level, limits = EXCLUDED.limits, sort = EXCLUDED.sort, active = true`,
      [JSON.stringify(categories)],
    )
    await tx.query(`UPDATE categories SET active = false WHERE NOT (code = ANY($1::text[]))`, [categories.map((c) => c.code)])
  })
  return { departments: departments.length, categories: categories.length }
}

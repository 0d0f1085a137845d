import { Type, type Static } from 'typebox'
import type { AppInstance } from '../../app-types.ts'

const Limit = Type.Object({ amount: Type.Number(), unit: Type.String() })
const CategorySchema = Type.Object({
  code: Type.String(),
  family: Type.String(),
  parent: Type.Union([Type.String(), Type.Null()]),
  zh: Type.String(),
  en: Type.String(),
  color: Type.String(),
  department: Type.String(),
  priority: Type.String(),
  clock: Type.String(),
  expectedLevel: Type.Integer(),
  limits: Type.Object({ urgent: Limit, high: Limit, normal: Limit }),
})
const DepartmentSchema = Type.Object({ code: Type.String(), zh: Type.String(), en: Type.String(), phone: Type.Union([Type.String(), Type.Null()]) })

/** The reference tables as loaded from data/reference/categories.json (active rows only). */
export default async function categoryRoutes(app: AppInstance) {
  app.get('/api/categories', { schema: { response: { 200: Type.Object({ categories: Type.Array(CategorySchema) }) } } }, async () => {
    const { rows } = await app.db.query<Static<typeof CategorySchema>>(
      `SELECT code, family, parent_code AS parent, name_zh AS zh, name_en AS en, color, department, priority, clock,
              expected_level AS "expectedLevel", limits
         FROM categories WHERE active ORDER BY sort, code`,
    )
    return { categories: rows }
  })
  app.get('/api/departments', { schema: { response: { 200: Type.Object({ departments: Type.Array(DepartmentSchema) }) } } }, async () => {
    const { rows } = await app.db.query<Static<typeof DepartmentSchema>>(`SELECT code, name_zh AS zh, name_en AS en, phone FROM departments WHERE active ORDER BY code`)
    return { departments: rows }
  })
}

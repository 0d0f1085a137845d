/**
 * What the public (anonymous) side of the API may show of a case (issue #6): Open311 GET requests, and the photos
 * Open311 links as media_url.
 *
 * Categories whose cases are about people rather than things are SENSITIVE: a dispute names the neighbours, a public
 * security report names a suspect or a victim, a livelihood request (help for vulnerable residents, social
 * insurance, errands) describes a household. For them the public never gets the description, the exact address or
 * position, the photos or the staff's notes — only that a request of that kind exists somewhere in a community, and
 * its status. Every other family is PUBLIC: street lights, garbage, parking — the place is the point of the report.
 *
 * Marked by family (the first label of the code), so a child category added to one of these families is sensitive
 * from the start. Reporter, contact details and phone are never shown for any category (they are not in the
 * Open311 output at all; the intake record with contact details is a staff-only timeline entry).
 */
export const SENSITIVE_FAMILIES: readonly string[] = ['dispute', 'public_security', 'livelihood']

export const familyOf = (code: string): string => code.split('.')[0]

export function isSensitiveCategory(code: string): boolean {
  return SENSITIVE_FAMILIES.includes(familyOf(code))
}

/** SQL: "the category in `column` is public" — its family is not one of SENSITIVE_FAMILIES. `param` is `$n`. */
export const publicCategorySql = (column: string, param: string): string => `NOT (split_part(${column}, '.', 1) = ANY(${param}::text[]))`

/**
 * How exact a sensitive request's position may be in public: 2 decimals of a degree (about 1 km north–south),
 * enough to show the neighbourhood on a map, not the door.
 */
export const coarse = (deg: number): number => Math.round(deg * 100) / 100

/** An error with an HTTP status and a stable machine-readable code, rendered as { error, message, field? }. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Extra members of the error body, e.g. { allowed: [...] } on a 409 or { currentVersion } on a 412. */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

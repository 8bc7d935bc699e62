/**
 * Operational errors: expected failures with a status and a message safe to show the client.
 * Anything else that reaches the error handler is a bug: logged in full, answered with a 500
 * that reveals nothing.
 */
export interface AppErrorOptions {
  code?: string
  details?: unknown
  cause?: unknown
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>
}

export class AppError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  readonly headers: Record<string, string>

  constructor(status: number, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.status = status
    this.code = options.code ?? 'ERROR'
    this.details = options.details
    this.headers = options.headers ?? {}
  }
}

export class BadRequestError extends AppError {
  constructor(message = 'Bad request', options: AppErrorOptions = {}) {
    super(400, message, { code: 'BAD_REQUEST', ...options })
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', options: AppErrorOptions = {}) {
    super(401, message, { code: 'UNAUTHORIZED', ...options })
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Forbidden', options: AppErrorOptions = {}) {
    super(403, message, { code: 'FORBIDDEN', ...options })
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found', options: AppErrorOptions = {}) {
    super(404, message, { code: 'NOT_FOUND', ...options })
  }
}

export class ConflictError extends AppError {
  constructor(message = 'Conflict', options: AppErrorOptions = {}) {
    super(409, message, { code: 'CONFLICT', ...options })
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message = 'Request body too large', options: AppErrorOptions = {}) {
    super(413, message, { code: 'PAYLOAD_TOO_LARGE', ...options })
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Unsupported media type', options: AppErrorOptions = {}) {
    super(415, message, { code: 'UNSUPPORTED_MEDIA_TYPE', ...options })
  }
}

export interface ValidationIssue {
  /** Where the problem is, e.g. "body.email" or "query.limit". */
  path: string
  message: string
  code: string
}

export class ValidationError extends AppError {
  constructor(details: ValidationIssue[], message = 'Validation failed') {
    super(422, message, { code: 'VALIDATION_FAILED', details })
  }
}

export class TooManyRequestsError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests') {
    super(429, message, {
      code: 'rate_limited',
      headers: { 'Retry-After': String(Math.max(0, Math.ceil(retryAfterSeconds))) },
    })
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'Service unavailable', options: AppErrorOptions = {}) {
    super(503, message, { code: 'SERVICE_UNAVAILABLE', ...options })
  }
}

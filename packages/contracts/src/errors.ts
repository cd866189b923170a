import { z } from 'zod';

export const ErrorCode = z.enum([
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const statusByCode = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
} as const satisfies Record<ErrorCode, number>;

/** The HTTP status every error code answers with; the one mapping the API uses. */
export function codeToStatus(code: ErrorCode): number {
  return statusByCode[code];
}

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export interface OraErrorOptions {
  code: ErrorCode;
  message: string;
  details?: unknown;
  cause?: unknown;
  /** Seconds a caller should wait before trying again (RATE_LIMITED, CONFLICT while running). */
  retryAfterSeconds?: number;
  /** A more precise status than the code's own (413 for a VALIDATION_ERROR about body size). */
  status?: number;
}

/** The one error type of ORA: a closed code, a message for people, optional details for programs. */
export class OraError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;
  readonly #status: number | undefined;

  constructor(options: OraErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OraError';
    this.code = options.code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.#status = options.status;
  }

  get status(): number {
    return this.#status ?? codeToStatus(this.code);
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isOraError(error: unknown): error is OraError {
  return error instanceof OraError;
}

/** Zod issues as error details: where, what, and the rule that failed. */
export function zodIssues(error: z.ZodError): Array<{ path: string; message: string; code: string }> {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
    code: issue.code,
  }));
}

/** Parses with a schema, or throws VALIDATION_ERROR naming every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what = 'input'): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new OraError({
    code: 'VALIDATION_ERROR',
    message: `Invalid ${what}: ${result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ')}`,
    details: { issues: zodIssues(result.error) },
  });
}

import type { ProviderName } from './types';

/**
 * What went wrong with a provider call, in the terms the router acts on:
 * - `rate_limited`, `overloaded`: wait (retry-after when given) and try the same model again;
 * - `server`, `timeout`, `network`: an outage; the next model of the fallback list is tried;
 * - `quota`: the spend limit is reached; never retried on that provider;
 * - `auth`, `bad_request`: no retry can fix it;
 * - `aborted`: the run was cancelled; nothing more is tried.
 */
export type ProviderErrorKind =
  | 'rate_limited'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'network'
  | 'quota'
  | 'auth'
  | 'bad_request'
  | 'aborted';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly provider: ProviderName;
  readonly status: number | null;
  readonly retryAfterMs: number | null;

  constructor(options: {
    kind: ProviderErrorKind;
    provider: ProviderName;
    message: string;
    status?: number | null;
    retryAfterMs?: number | null;
    cause?: unknown;
  }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = options.kind;
    this.provider = options.provider;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }

  /** Whether waiting and asking the same model again may work. */
  get waitable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'overloaded';
  }

  /** Whether a later attempt of the whole task may work (false: spend limit, credentials, bad request). */
  get transient(): boolean {
    return !(this.kind === 'quota' || this.kind === 'auth' || this.kind === 'bad_request');
  }
}

/** Reads `retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP date) from response headers. */
export function retryAfterMs(headers: Headers | undefined | null, now = Date.now()): number | null {
  if (!headers) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The SDK's own error classes (the OpenAI SDK does not name its errors, so `instanceof` it is). */
export interface SdkErrorClasses {
  APIUserAbortError: abstract new (...args: any[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: any[]) => Error;
}

interface SdkErrorShape {
  name?: string;
  status?: number | undefined;
  headers?: Headers | undefined;
  error?: unknown;
  message?: string;
  code?: string | null;
  type?: string | null;
  errorCode?: string | null;
}

/**
 * Maps an error from either SDK to a ProviderError. Both SDKs share the shape (APIError with
 * status, headers and the JSON body; APIUserAbortError; APIConnectionError and its timeout).
 */
export function classifySdkError(
  provider: ProviderName,
  error: unknown,
  signal: AbortSignal | undefined,
  sdk: SdkErrorClasses,
): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const message = e.message ?? String(error);
  if (signal?.aborted || error instanceof sdk.APIUserAbortError || e.name === 'AbortError') {
    return new ProviderError({ kind: 'aborted', provider, message: 'the call was aborted', cause: error });
  }
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return new ProviderError({
      kind: 'timeout',
      provider,
      message: `${provider} did not answer in time`,
      cause: error,
    });
  }
  const status = typeof e.status === 'number' ? e.status : null;
  if (status === null) {
    return new ProviderError({
      kind: 'network',
      provider,
      message: `${provider} unreachable: ${message}`,
      cause: error,
    });
  }
  const body = (e.error ?? {}) as Record<string, any>;
  // OpenAI puts {message, type, code} at the top of e.error; Anthropic nests it in e.error.error.
  const inner = (body.error && typeof body.error === 'object' ? body.error : body) as Record<string, any>;
  const type = String(e.type ?? inner.type ?? '');
  const code = String(e.code ?? inner.code ?? e.errorCode ?? inner.details?.error_code ?? '');
  const text = String(inner.message ?? message);
  const after = retryAfterMs(e.headers);
  const make = (kind: ProviderErrorKind, why: string) =>
    new ProviderError({
      kind,
      provider,
      status,
      retryAfterMs: after,
      message: `${why} (${provider} ${status}: ${text})`,
      cause: error,
    });

  const spendLimit =
    code === 'insufficient_quota' ||
    type === 'insufficient_quota' ||
    type === 'billing_error' ||
    code === 'enforced_spend_limit_reached' ||
    status === 402 ||
    (status === 400 && /credit balance|spend limit|usage limit|billing/i.test(text));
  if (spendLimit) return make('quota', 'the provider reports its spend limit is reached');
  if (status === 401 || status === 403) return make('auth', 'the provider refused the credentials');
  if (status === 429) return make('rate_limited', 'rate limited');
  if (status === 529 || type === 'overloaded_error' || (status === 503 && /overload/i.test(text))) {
    return make('overloaded', 'the provider is overloaded');
  }
  if (status === 408) return make('timeout', 'the provider timed out');
  if (status >= 500) return make('server', 'the provider failed');
  return make('bad_request', 'the provider refused the request');
}

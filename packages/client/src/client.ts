import { type ActionInput, type ActionName, type ActionOutput, ErrorEnvelope, headers, OraError } from '@ora/contracts';

export interface OraClientOptions {
  /** Where ORA listens, e.g. http://127.0.0.1:8787 */
  baseUrl: string;
  /** An ORA key (ora_sk_...). */
  apiKey: string;
  /** Per-call timeout; the call is aborted after it. Default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Makes a retried mutation safe: the server answers a repeat with the first answer. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  requestId?: string;
}

/** A failed call: the server's error code, message and details, plus the HTTP status and request id. */
export class OraClientError extends OraError {
  constructor(
    body: ErrorEnvelope['error'],
    readonly httpStatus: number,
    readonly requestId: string | null,
    retryAfterSeconds?: number,
  ) {
    super({
      code: body.code,
      message: body.message,
      details: body.details,
      status: httpStatus,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
    this.name = 'OraClientError';
  }
}

/** The typed client for `POST /api/ora`: `client.call('keys.list', { limit: 10 })`. */
export class OraClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: OraClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
  }

  async call<A extends ActionName>(
    action: A,
    data?: ActionInput<A>,
    options: CallOptions = {},
  ): Promise<ActionOutput<A>> {
    const signals = [AbortSignal.timeout(this.#timeoutMs), ...(options.signal ? [options.signal] : [])];
    const response = await this.#fetch(`${this.#baseUrl}/api/ora/${action}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.#apiKey}`,
        'content-type': 'application/json',
        ...(options.idempotencyKey ? { [headers.idempotencyKey]: options.idempotencyKey } : {}),
        ...(options.requestId ? { [headers.requestId]: options.requestId } : {}),
      },
      body: JSON.stringify(data ?? {}),
      signal: AbortSignal.any(signals),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok) return (body as { data: ActionOutput<A> }).data;
    const envelope = ErrorEnvelope.safeParse(body);
    const requestId = response.headers.get(headers.requestId);
    if (!envelope.success) {
      throw new OraClientError(
        { code: 'INTERNAL_ERROR', message: `HTTP ${response.status} without an ORA error body: ${text.slice(0, 200)}` },
        response.status,
        requestId,
      );
    }
    const retryAfter = response.headers.get(headers.retryAfter);
    throw new OraClientError(
      envelope.data.error,
      response.status,
      requestId,
      retryAfter ? Number(retryAfter) : undefined,
    );
  }
}

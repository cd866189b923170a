import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import { BlockedAddressError, blockedClass, connectHost, guardedLookup, type TargetPolicy } from './ssrf-guard';

export interface WebhookHttpOptions {
  policy: TargetPolicy;
  /** The whole exchange (lookup, connect, request, response) must end within this. */
  timeoutMs: number;
  /** Read at most this much of a response; past it the connection is cut (the status still counts). */
  maxResponseBytes: number;
  /** Connections at once per receiver host (more requests wait for one, within their deadline). */
  maxSocketsPerHost?: number;
}

export interface HttpOutcome {
  /** null when no response arrived (refused address, connection error, timeout). */
  statusCode: number | null;
  latencyMs: number;
  /** The start of the response body, for the attempt log. */
  responseExcerpt: string | null;
  error: string | null;
  /** From Retry-After (seconds or an HTTP date), when the receiver sent one. */
  retryAfterSeconds: number | null;
  /** The target address was refused by the SSRF guard: no request left ORA. */
  blocked: boolean;
}

const EXCERPT_BYTES = 1024;
const USER_AGENT = 'ORA-Webhooks/1';

/** Seconds a Retry-After header asks for (delta-seconds or HTTP date), or null. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * POSTs webhook bodies with undici (a leaner HTTP/1.1 client than node:http: no request and
 * response stream objects per POST), so ORA controls what matters for untrusted receivers:
 * redirects are never followed (a 3xx is a failed attempt), one deadline covers the whole exchange,
 * the response is read up to a cap, and every address is checked by the SSRF guard inside the
 * connection's own lookup (IP literals, which skip lookups, are checked before). Connections are
 * kept alive per receiver (protocol, host and port), one request at a time each (no pipelining).
 */
export class WebhookHttpClient {
  readonly #agent: Agent;
  readonly #targets = new Map<string, Target | { error: string; blocked: boolean }>();
  readonly #maxPerHost: number;
  /** Requests in flight and waiting, per receiver. */
  readonly #slots = new Map<string, Slots>();
  readonly #timeoutMessage: string;

  constructor(private readonly options: WebhookHttpOptions) {
    this.#maxPerHost = options.maxSocketsPerHost ?? 64;
    this.#timeoutMessage = `no complete answer within ${options.timeoutMs} ms`;
    this.#agent = new Agent({
      connections: this.#maxPerHost,
      pipelining: 1,
      // The attempt's own deadline covers connecting, headers and body.
      headersTimeout: 0,
      bodyTimeout: 0,
      maxRedirections: 0,
      connect: { lookup: guardedLookup(options.policy), timeout: options.timeoutMs },
    });
  }

  /**
   * One attempt. At most `maxSocketsPerHost` requests to a receiver are made at once; more wait
   * here, in arrival order, for one to end. The deadline counts the wait: an attempt whose time ran
   * out while it waited ends without a request. A waiting attempt is only an entry in its
   * receiver's queue (one timer per queue, no listener), so a burst waits cheaply.
   */
  post(rawUrl: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<HttpOutcome> {
    const started = performance.now();
    const target = this.#target(rawUrl);
    if ('error' in target) return Promise.resolve(failedOutcome(started, target.error, target.blocked));
    if (signal?.aborted) return Promise.resolve(failedOutcome(started, STOPPED, false));
    return new Promise<HttpOutcome>((resolve) => {
      const slots = this.#slotsOf(target.origin);
      const waiting: Waiting = { started, signal, resolve, target, headers, body };
      if (slots.active < this.#maxPerHost) this.#start(slots, waiting, this.options.timeoutMs);
      else {
        slots.waiting.push(waiting);
        this.#watchQueue(slots);
      }
    });
  }

  #slotsOf(origin: string): Slots {
    let slots = this.#slots.get(origin);
    if (!slots) {
      slots = { origin, active: 0, waiting: [], timer: null };
      this.#slots.set(origin, slots);
    }
    return slots;
  }

  /** Sends an attempt on one of its receiver's slots, with what is left of its deadline. */
  #start(slots: Slots, waiting: Waiting, remainingMs: number): void {
    slots.active += 1;
    const attempt = new Attempt(waiting, this.options.maxResponseBytes, this.#timeoutMessage, (outcome) => {
      this.#release(slots);
      waiting.resolve(outcome);
    });
    attempt.begin(remainingMs);
    try {
      this.#agent.dispatch(
        {
          origin: waiting.target.origin,
          path: waiting.target.path,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...waiting.headers },
          body: waiting.body,
        },
        attempt,
      );
    } catch (error) {
      attempt.onError(error as Error);
    }
  }

  /** A slot came free: the next waiting attempt that still has time (and no shutdown) takes it. */
  #release(slots: Slots): void {
    slots.active -= 1;
    for (;;) {
      const next = slots.waiting.shift();
      if (!next) break;
      const remaining = next.started + this.options.timeoutMs - performance.now();
      if (next.signal?.aborted) next.resolve(failedOutcome(next.started, STOPPED, false));
      else if (remaining <= 0) next.resolve(failedOutcome(next.started, this.#timeoutMessage, false));
      else {
        this.#start(slots, next, remaining);
        return;
      }
    }
    if (slots.active === 0) {
      if (slots.timer) clearTimeout(slots.timer);
      this.#slots.delete(slots.origin);
    }
  }

  /** Ends waiting attempts whose deadline passed (the oldest waits longest: one timer, on it). */
  #watchQueue(slots: Slots): void {
    if (slots.timer) return;
    const first = slots.waiting[0];
    if (!first) return;
    const wait = Math.max(0, first.started + this.options.timeoutMs - performance.now());
    slots.timer = setTimeout(() => {
      slots.timer = null;
      const now = performance.now();
      while (slots.waiting.length) {
        const head = slots.waiting[0] as Waiting;
        if (head.started + this.options.timeoutMs > now && !head.signal?.aborted) break;
        slots.waiting.shift();
        head.resolve(failedOutcome(head.started, head.signal?.aborted ? STOPPED : this.#timeoutMessage, false));
      }
      this.#watchQueue(slots);
    }, wait);
  }

  close(): void {
    this.#agent.destroy().catch(() => undefined);
  }

  /**
   * A URL taken apart for a request, or why it cannot be one. An IP-literal host connects without
   * a lookup, so it is checked here; names are checked by the lookup of each new connection. Kept
   * per URL (the answer cannot change for a literal), so a busy webhook does not parse it each time.
   */
  #target(rawUrl: string): Target | { error: string; blocked: boolean } {
    const known = this.#targets.get(rawUrl);
    if (known !== undefined) return known;
    let target: Target | { error: string; blocked: boolean };
    try {
      const url = new URL(rawUrl);
      const host = connectHost(url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        target = { error: 'the URL is not http(s)', blocked: false };
      } else {
        const kind = isIP(host) ? blockedClass(host, this.options.policy.allowPrivate) : null;
        target = kind
          ? { error: new BlockedAddressError(host, host, kind).message, blocked: true }
          : { origin: url.origin, path: `${url.pathname}${url.search}` };
      }
    } catch {
      target = { error: 'the URL is not valid', blocked: false };
    }
    if (this.#targets.size >= 10_000) this.#targets.clear();
    this.#targets.set(rawUrl, target);
    return target;
  }
}

/**
 * One request on its way: undici's handler for it (methods, not a closure per event), its
 * deadline and its shutdown listener. `finish` is called once, with the outcome.
 */
class Attempt implements Dispatcher.DispatchHandlers {
  #settled = false;
  /** Cuts the request once it is on a connection (undici hands it over then). */
  #abort: ((error: Error) => void) | null = null;
  #deadline: NodeJS.Timeout | null = null;
  #statusCode = 0;
  #location: string | null = null;
  #retryAfter: string | null = null;
  #chunks: Buffer[] | null = null;
  #received = 0;
  #truncated = false;

  constructor(
    private readonly waiting: Waiting,
    private readonly maxResponseBytes: number,
    private readonly timeoutMessage: string,
    private readonly finish: (outcome: HttpOutcome) => void,
  ) {}

  begin(remainingMs: number): void {
    this.#deadline = setTimeout(Attempt.#atDeadline, remainingMs, this);
    this.waiting.signal?.addEventListener('abort', this, { once: true });
  }

  static #atDeadline(attempt: Attempt): void {
    attempt.stop(attempt.timeoutMessage);
  }

  /** The shutdown signal (an EventTarget listener object). */
  handleEvent(): void {
    this.stop(STOPPED);
  }

  /** Ends the attempt on ORA's side: a request not yet on a connection ends here, one on it is cut. */
  stop(message: string): void {
    if (this.#abort) this.#abort(new AttemptStopped(message));
    else this.#settle(failedOutcome(this.waiting.started, message, false));
  }

  onConnect(abort: (error?: Error) => void): void {
    // Ended before the request reached a connection (deadline, shutdown): drop it now.
    if (this.#settled) abort(new AttemptStopped('the attempt already ended'));
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[]): boolean {
    // 1xx answers come before the final one: only the last counts.
    this.#statusCode = statusCode;
    this.#location = null;
    this.#retryAfter = null;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as Buffer).toString('latin1').toLowerCase();
      if (name === 'location') this.#location ??= (raw[i + 1] as Buffer).toString('latin1');
      else if (name === 'retry-after') this.#retryAfter ??= (raw[i + 1] as Buffer).toString('latin1');
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#truncated) return false;
    this.#received += chunk.length;
    if (this.#received <= EXCERPT_BYTES + chunk.length) {
      if (this.#chunks) this.#chunks.push(chunk);
      else this.#chunks = [chunk];
    }
    if (this.#received > this.maxResponseBytes) {
      // Enough: the status counts, the rest of the answer is not read (the connection goes).
      this.#truncated = true;
      this.#done();
      const abort = this.#abort;
      queueMicrotask(() => abort?.(new AttemptStopped('the response is larger than the cap')));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.#done();
  }

  onError(error: Error): void {
    if (this.#truncated) return;
    let message: string;
    if (error instanceof BlockedAddressError || error instanceof AttemptStopped) message = error.message;
    else if (this.#statusCode >= 200) message = 'the receiver cut the response short';
    else message = describeError(error as NodeJS.ErrnoException);
    this.#settle(failedOutcome(this.waiting.started, message, error instanceof BlockedAddressError));
  }

  #done(): void {
    const statusCode = this.#statusCode;
    // Postgres text cannot hold NUL: a receiver's NUL bytes must not break the outcome's write.
    const text = this.#chunks
      ? Buffer.concat(this.#chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\0/g, '')
      : '';
    let error: string | null = null;
    if (statusCode >= 300 && statusCode < 400) {
      const location = this.#location;
      error = `redirect not followed${location ? ` (Location: ${location.slice(0, 300).replace(/\0/g, '')})` : ''}`;
    } else if (statusCode < 200 || statusCode >= 300) {
      error = `HTTP ${statusCode}`;
    }
    this.#settle({
      statusCode,
      latencyMs: Math.round(performance.now() - this.waiting.started),
      responseExcerpt: text.length ? text + (this.#truncated || this.#received > EXCERPT_BYTES ? '…' : '') : null,
      error,
      retryAfterSeconds: parseRetryAfter(this.#retryAfter ?? undefined),
      blocked: false,
    });
  }

  #settle(outcome: HttpOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#deadline) clearTimeout(this.#deadline);
    this.waiting.signal?.removeEventListener('abort', this);
    this.finish(outcome);
  }
}

/** An attempt ended on ORA's side (deadline, shutdown, response cap): its message is the outcome's error. */
class AttemptStopped extends Error {}

const STOPPED = 'the delivery was stopped (shutdown)';

interface Waiting {
  /** performance.now() when the attempt began: its deadline and latency count from here. */
  started: number;
  signal: AbortSignal | undefined;
  resolve: (outcome: HttpOutcome) => void;
  target: Target;
  headers: Record<string, string>;
  body: string;
}

interface Slots {
  origin: string;
  active: number;
  /** Attempts waiting for a request slot, in arrival order (so in deadline order too). */
  waiting: Waiting[];
  /** Ends the waiting attempts whose deadline passed. */
  timer: NodeJS.Timeout | null;
}

function failedOutcome(started: number, error: string, blocked: boolean): HttpOutcome {
  return {
    statusCode: null,
    latencyMs: Math.round(performance.now() - started),
    responseExcerpt: null,
    error,
    retryAfterSeconds: null,
    blocked,
  };
}

interface Target {
  /** protocol://host:port, as undici keys its connections. */
  origin: string;
  path: string;
}

/** What a failed connection means for the operator, by error code (the code and message follow). */
const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens at that address and port (is the receiver running?)',
  ENOTFOUND: "host not found: check the webhook URL's host name",
  EAI_AGAIN: 'host name lookup failed for now (DNS); later attempts try again',
  ECONNRESET: 'the receiver reset the connection',
  EPIPE: 'the receiver closed the connection while the request was being sent',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable from this server',
  ENETUNREACH: 'the network of that address is unreachable from this server',
  UND_ERR_SOCKET: 'the receiver closed the connection before answering',
  UND_ERR_CONNECT_TIMEOUT: 'could not connect to the receiver in time',
  CERT_HAS_EXPIRED: "TLS: the receiver's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS: the receiver's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS: the receiver's certificate chain is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS: the receiver's certificate chain is incomplete",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS: the receiver's certificate is for another host name",
};

function describeError(error: NodeJS.ErrnoException): string {
  const cause = (error.cause ?? null) as NodeJS.ErrnoException | null;
  const code = error.code ?? cause?.code;
  const known = code ? CAUSES[code] : undefined;
  const detail = `${code && !error.message.includes(code) ? `${code}: ` : ''}${error.message}`;
  return (known ? `${known} (${detail})` : detail).slice(0, 500);
}

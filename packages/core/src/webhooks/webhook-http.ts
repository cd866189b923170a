import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
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
 * POSTs webhook bodies with node:http, so ORA controls what matters for untrusted receivers:
 * redirects are never followed (a 3xx is a failed attempt), one deadline covers the whole
 * exchange, the response is read up to a cap, and every address is checked by the SSRF guard
 * inside the connection's own lookup (IP literals, which skip lookups, are checked before).
 * Connections are kept alive per host.
 */
export class WebhookHttpClient {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #lookup: ReturnType<typeof guardedLookup>;
  readonly #targets = new Map<string, Target | { error: string; blocked: boolean }>();

  constructor(private readonly options: WebhookHttpOptions) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerHost ?? 64,
      maxFreeSockets: options.maxSocketsPerHost ?? 64,
      timeout: 30_000,
      scheduling: 'lifo' as const,
    };
    this.#http = new http.Agent(agentOptions);
    this.#https = new https.Agent(agentOptions);
    this.#lookup = guardedLookup(options.policy);
  }

  async post(
    rawUrl: string,
    headers: Record<string, string>,
    body: string,
    signal?: AbortSignal,
  ): Promise<HttpOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const failed = (error: string, blocked = false): HttpOutcome => ({
      statusCode: null,
      latencyMs: elapsed(),
      responseExcerpt: null,
      error,
      retryAfterSeconds: null,
      blocked,
    });
    const target = this.#target(rawUrl);
    if ('error' in target) return failed(target.error, target.blocked);
    const { isHttps } = target;
    const payload = Buffer.from(body, 'utf8');

    return new Promise<HttpOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: HttpOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const request = (isHttps ? https : http).request({
        method: 'POST',
        protocol: isHttps ? 'https:' : 'http:',
        hostname: target.host,
        port: target.port,
        path: target.path,
        agent: isHttps ? this.#https : this.#http,
        lookup: this.#lookup,
        headers: {
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'user-agent': USER_AGENT,
          ...headers,
        },
      });
      const deadline = setTimeout(
        () => request.destroy(new Error(`no complete answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
      const onAbort = () => request.destroy(new Error('the delivery was stopped (shutdown)'));
      signal?.addEventListener('abort', onAbort, { once: true });

      request.on('error', (error: NodeJS.ErrnoException) => {
        const blocked = error instanceof BlockedAddressError;
        finish(failed(blocked ? error.message : describeError(error), blocked));
      });
      request.on('response', (response) => {
        const statusCode = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let received = 0;
        let truncated = false;
        const done = () => {
          const text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
          const location = response.headers.location;
          let error: string | null = null;
          if (statusCode >= 300 && statusCode < 400) {
            error = `redirect not followed${location ? ` (Location: ${String(location).slice(0, 300)})` : ''}`;
          } else if (statusCode < 200 || statusCode >= 300) {
            error = `HTTP ${statusCode}`;
          }
          finish({
            statusCode,
            latencyMs: elapsed(),
            responseExcerpt: text.length ? text + (truncated || received > EXCERPT_BYTES ? '…' : '') : null,
            error,
            retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
            blocked: false,
          });
        };
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received <= EXCERPT_BYTES + chunk.length) chunks.push(chunk);
          if (received > this.options.maxResponseBytes && !truncated) {
            truncated = true;
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', (error) => (truncated ? done() : finish(failed(describeError(error)))));
        response.on('aborted', () => {
          if (!truncated) finish(failed('the receiver cut the response short'));
        });
      });
      request.end(payload);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
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
      const isHttps = url.protocol === 'https:';
      const host = connectHost(url);
      if (!isHttps && url.protocol !== 'http:') target = { error: 'the URL is not http(s)', blocked: false };
      else {
        const kind = isIP(host) ? blockedClass(host, this.options.policy.allowPrivate) : null;
        target = kind
          ? { error: new BlockedAddressError(host, host, kind).message, blocked: true }
          : { isHttps, host, port: url.port || (isHttps ? '443' : '80'), path: `${url.pathname}${url.search}` };
      }
    } catch {
      target = { error: 'the URL is not valid', blocked: false };
    }
    if (this.#targets.size >= 10_000) this.#targets.clear();
    this.#targets.set(rawUrl, target);
    return target;
  }
}

interface Target {
  isHttps: boolean;
  host: string;
  port: string;
  path: string;
}

function describeError(error: NodeJS.ErrnoException): string {
  const code = error.code && !error.message.includes(error.code) ? `${error.code}: ` : '';
  return `${code}${error.message}`.slice(0, 500);
}

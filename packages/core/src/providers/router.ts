import { ProviderError, type ProviderErrorKind } from './errors';
import { costOf, priceOf } from './prices';
import { ProviderRegistry, parseModelRef } from './registry';
import type { ChatRequest, ChatResponse, ProviderName } from './types';

/** One provider call (or a model skipped), as the run records it. */
export interface ModelAttempt {
  step: number;
  model: string;
  provider: string;
  status: 'ok' | 'error' | 'skipped';
  /** Not the first model of the list: a fallback. */
  fallback: boolean;
  errorKind?: ProviderErrorKind | 'unconfigured' | 'unknown_provider';
  httpStatus?: number | null;
  message?: string;
  retryAfterMs?: number | null;
  /** How long the router waited after this attempt before the next one. */
  waitedMs?: number;
  startedAt: string;
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  priced: boolean;
}

export interface ModelCallResult {
  response: ChatResponse;
  modelRef: string;
  provider: ProviderName;
  cost: number;
  priced: boolean;
  attempts: ModelAttempt[];
  /** Time spent inside provider calls and waits (the rest of a step is the runtime's own). */
  providerMs: number;
}

/** Every model of the list failed; `retryable` is false when no later attempt can do better. */
export class ModelCallError extends Error {
  constructor(
    message: string,
    readonly attempts: ModelAttempt[],
    readonly retryable: boolean,
    readonly aborted: boolean,
  ) {
    super(message);
    this.name = 'ModelCallError';
  }
}

export interface CallOptions {
  step: number;
  signal: AbortSignal;
  /** The run must be over by then (epoch ms): no wait or call reaches past it. */
  deadline: number;
  /** The wall clock in epoch ms (default Date.now). */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * A signal of its own for one call, aborted with `parent`. SDKs add an abort listener per request
 * and never remove it: on a signal that lives for a whole run, those would pile up.
 */
export function childSignal(parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose() {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose: () => parent.removeEventListener('abort', onAbort) };
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Backoff when a 429/overload names no retry-after: 1 s, 2 s, 4 s... */
const backoffMs = (retry: number) => 1000 * 2 ** retry;

/**
 * Asks the models in order until one answers. On 429 or overload the same model is asked again
 * after its retry-after (up to maxRetries, and only when the wait fits the limits); on a 5xx,
 * timeout or unreachable server the next model is tried; a spend-limit answer rules its whole
 * provider out (never retried); an abort stops everything. Every attempt is recorded.
 */
export async function callModels(
  registry: ProviderRegistry,
  models: readonly string[],
  request: Omit<ChatRequest, 'model' | 'signal' | 'timeoutMs'>,
  options: CallOptions,
): Promise<ModelCallResult> {
  const now = options.now ?? Date.now;
  // Durations on a monotonic clock with sub-millisecond precision; deadlines and timestamps on the wall clock.
  const mono = () => performance.now();
  const sleep = options.sleep ?? abortableSleep;
  const attempts: ModelAttempt[] = [];
  const exhausted = new Set<ProviderName>();
  let providerMs = 0;
  let anyTransient = false;
  const base = (modelRef: string, provider: string, index: number) => ({
    step: options.step,
    model: modelRef,
    provider,
    fallback: index > 0,
    startedAt: new Date(now()).toISOString(),
    inputTokens: 0,
    outputTokens: 0,
    cost: 0,
    priced: priceOf(registry.prices, modelRef) !== null,
  });

  for (const [index, modelRef] of models.entries()) {
    const ref = parseModelRef(modelRef);
    if (!ref) {
      attempts.push({
        ...base(modelRef, modelRef.split('/')[0] ?? '', index),
        status: 'skipped',
        errorKind: 'unknown_provider',
        message: `"${modelRef}" is not provider/model with provider openai or anthropic`,
        durationMs: 0,
      });
      continue;
    }
    const provider = registry.get(ref.provider);
    if (!provider || exhausted.has(ref.provider)) {
      attempts.push({
        ...base(modelRef, ref.provider, index),
        status: 'skipped',
        errorKind: provider ? 'quota' : 'unconfigured',
        message: provider
          ? `${ref.provider} reported its spend limit earlier in this call`
          : `${ref.provider} is not configured (set ${ProviderRegistry.settingFor(ref.provider)})`,
        durationMs: 0,
      });
      continue;
    }
    const price = priceOf(registry.prices, modelRef);
    for (let retry = 0; ; retry++) {
      if (options.signal.aborted) throw new ModelCallError('the run was stopped', attempts, true, true);
      const remaining = options.deadline - now();
      if (remaining <= 0) throw new ModelCallError('the run ran out of time', attempts, false, false);
      const started = mono();
      const attempt = base(modelRef, ref.provider, index);
      const call = childSignal(options.signal);
      try {
        const response = await provider.chat({
          ...request,
          model: ref.model,
          signal: call.signal,
          timeoutMs: Math.max(1, Math.min(registry.config.timeoutMs, remaining)),
        });
        call.dispose();
        const durationMs = mono() - started;
        providerMs += durationMs;
        const cost = costOf(price, response.usage);
        attempts.push({
          ...attempt,
          status: 'ok',
          durationMs: Math.round(durationMs * 10) / 10,
          inputTokens: response.usage.inputTokens,
          outputTokens: response.usage.outputTokens,
          cost,
        });
        return { response, modelRef, provider: ref.provider, cost, priced: price !== null, attempts, providerMs };
      } catch (thrown) {
        call.dispose();
        const durationMs = mono() - started;
        providerMs += durationMs;
        const error =
          thrown instanceof ProviderError
            ? thrown
            : new ProviderError({ kind: 'server', provider: ref.provider, message: String(thrown), cause: thrown });
        const record: ModelAttempt = {
          ...attempt,
          status: 'error',
          errorKind: error.kind,
          httpStatus: error.status,
          message: error.message,
          retryAfterMs: error.retryAfterMs,
          durationMs: Math.round(durationMs * 10) / 10,
        };
        attempts.push(record);
        if (error.kind === 'aborted' || options.signal.aborted) {
          throw new ModelCallError('the run was stopped', attempts, true, true);
        }
        if (error.transient) anyTransient = true;
        if (error.kind === 'quota') {
          exhausted.add(ref.provider);
          break;
        }
        if (error.waitable && retry < registry.config.maxRetries) {
          const wait = error.retryAfterMs ?? backoffMs(retry);
          const fits = wait <= registry.config.maxRetryAfterMs && now() + wait < options.deadline;
          // A later model may answer at once: waiting only pays when this is the last one.
          const others = models.slice(index + 1).some((m) => {
            const r = parseModelRef(m);
            return r !== null && registry.get(r.provider) !== null && !exhausted.has(r.provider);
          });
          if (fits && (!others || wait <= 2_000)) {
            record.waitedMs = wait;
            try {
              await sleep(wait, options.signal);
            } catch {
              throw new ModelCallError('the run was stopped', attempts, true, true);
            }
            providerMs += wait;
            continue;
          }
        }
        break;
      }
    }
  }
  const tried = attempts.filter((a) => a.status !== 'skipped');
  const summary = attempts.map((a) => `${a.model}: ${a.message ?? a.status}`).join('; ');
  if (tried.length === 0) {
    const unconfigured = attempts.every((a) => a.errorKind === 'unconfigured' || a.errorKind === 'unknown_provider');
    throw new ModelCallError(
      unconfigured ? `No configured provider for ${models.join(', ')}: ${summary}` : summary,
      attempts,
      false,
      false,
    );
  }
  throw new ModelCallError(`Every model failed (${summary})`, attempts, anyTransient, false);
}

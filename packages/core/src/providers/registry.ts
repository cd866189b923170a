import { AnthropicProvider } from './anthropic.provider';
import { OpenAIProvider } from './openai.provider';
import { defaultPrices, type PriceTable } from './prices';
import { type LlmProvider, type ProviderName, providerNames } from './types';

/** How ORA reaches its LLM providers: credentials, endpoints, and the call policy. */
export interface ProvidersConfig {
  openaiApiKey?: string | undefined;
  /** An OpenAI-compatible server (Ollama, vLLM, OpenRouter): enough on its own, without a key. */
  openaiBaseUrl?: string | undefined;
  anthropicApiKey?: string | undefined;
  anthropicBaseUrl?: string | undefined;
  /** `provider/model` for agents without a model of their own; default: per the provider configured. */
  defaultModel?: string | undefined;
  /** `provider/model` of the images API. */
  imageModel?: string | undefined;
  /** One provider call at most this long. */
  timeoutMs?: number;
  /** Waits on 429/overload (honouring retry-after) before the next model is tried. */
  maxRetries?: number;
  /** A retry-after longer than this is not waited for: the next model is tried instead. */
  maxRetryAfterMs?: number;
  /** Prices over the built-in table (USD per million tokens). */
  prices?: PriceTable;
}

export interface ModelRef {
  provider: ProviderName;
  model: string;
}

/** `openai/gpt-4o-mini` -> { provider, model }; the model part may hold more slashes (OpenRouter names). */
export function parseModelRef(ref: string): ModelRef | null {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) return null;
  const provider = ref.slice(0, slash);
  if (!(providerNames as readonly string[]).includes(provider)) return null;
  return { provider: provider as ProviderName, model: ref.slice(slash + 1) };
}

const FALLBACK_DEFAULTS: Record<ProviderName, string> = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-sonnet-4-6',
};

/** The message an agent task fails with when no provider can run it: it names what to set. */
export const NO_PROVIDER_MESSAGE =
  'No LLM provider is configured: set OPENAI_API_KEY (OpenAI), OPENAI_BASE_URL (an OpenAI-compatible server such as Ollama or vLLM), or ANTHROPIC_API_KEY (Anthropic), then retry the task';

/** The configured providers, made once per process and shared by every run. */
export class ProviderRegistry {
  readonly config: Required<Pick<ProvidersConfig, 'timeoutMs' | 'maxRetries' | 'maxRetryAfterMs'>> & ProvidersConfig;
  readonly prices: PriceTable;
  readonly #providers = new Map<ProviderName, LlmProvider>();

  constructor(config: ProvidersConfig, overrides: Partial<Record<ProviderName, LlmProvider>> = {}) {
    this.config = { timeoutMs: 120_000, maxRetries: 2, maxRetryAfterMs: 60_000, ...config };
    this.prices = { ...defaultPrices, ...config.prices };
    if (config.openaiApiKey || config.openaiBaseUrl) {
      this.#providers.set('openai', new OpenAIProvider({ apiKey: config.openaiApiKey, baseURL: config.openaiBaseUrl }));
    }
    if (config.anthropicApiKey) {
      this.#providers.set(
        'anthropic',
        new AnthropicProvider({ apiKey: config.anthropicApiKey, baseURL: config.anthropicBaseUrl }),
      );
    }
    for (const [name, provider] of Object.entries(overrides)) this.#providers.set(name as ProviderName, provider);
  }

  get(name: ProviderName): LlmProvider | null {
    return this.#providers.get(name) ?? null;
  }

  configured(): ProviderName[] {
    return [...this.#providers.keys()];
  }

  /** The model for agents that name none: ORA_DEFAULT_MODEL, else a sensible one of the first provider configured. */
  defaultModel(): string | null {
    if (this.config.defaultModel) return this.config.defaultModel;
    const first = providerNames.find((p) => this.#providers.has(p));
    return first ? FALLBACK_DEFAULTS[first] : null;
  }

  imageModel(): string | null {
    if (this.config.imageModel) return this.config.imageModel;
    return this.#providers.has('openai') ? 'openai/gpt-image-1' : null;
  }

  /** The setting that would make a `provider/model` usable. */
  static settingFor(provider: ProviderName): string {
    return provider === 'openai' ? 'OPENAI_API_KEY or OPENAI_BASE_URL' : 'ANTHROPIC_API_KEY';
  }
}

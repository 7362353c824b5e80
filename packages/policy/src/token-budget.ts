import { systemClock, type Clock } from './clock.js';
import type { TokenBudget, TokenBudgetsConfig } from './config.js';
import { denial } from './denial.js';
import type { TokenCounter } from './token-counter.js';

/**
 * The text of an MCP result that reaches the model: text content, embedded resource text, prompt
 * message text, resource contents. `structuredContent` counts only when there is no text content
 * (servers are asked to mirror it as text). Images, audio and blobs are not text and not counted.
 */
export function resultText(result: unknown): string[] {
  const texts: string[] = [];
  if (result === null || typeof result !== 'object') return texts;
  const record = result as Record<string, unknown>;
  const fromContent = (content: unknown) => {
    if (content === null || typeof content !== 'object') return;
    const item = content as Record<string, unknown>;
    if (item['type'] === 'text' && typeof item['text'] === 'string') texts.push(item['text']);
    const resource = item['resource'];
    if (item['type'] === 'resource' && resource !== null && typeof resource === 'object') {
      const text = (resource as Record<string, unknown>)['text'];
      if (typeof text === 'string') texts.push(text);
    }
  };
  if (Array.isArray(record['content'])) for (const content of record['content']) fromContent(content);
  if (Array.isArray(record['messages'])) {
    for (const message of record['messages'])
      if (message !== null && typeof message === 'object') fromContent((message as Record<string, unknown>)['content']);
  }
  if (Array.isArray(record['contents'])) {
    for (const content of record['contents']) {
      const text = content !== null && typeof content === 'object' ? (content as Record<string, unknown>)['text'] : undefined;
      if (typeof text === 'string') texts.push(text);
    }
  }
  if (texts.length === 0 && record['structuredContent'] !== undefined) texts.push(JSON.stringify(record['structuredContent']));
  return texts;
}

export interface BudgetUsage {
  readonly principal: string;
  /** Tokens of the result just recorded (0 from `usage`). */
  readonly tokens: number;
  readonly used: number;
  readonly limit: number;
  readonly remaining: number;
  readonly exceeded: boolean;
  readonly mode: TokenBudget['mode'];
  /** When the current window ends and the budget is whole again (epoch ms). */
  readonly windowEndsAt: number;
  readonly rule: string;
}

interface Window {
  readonly start: number;
  used: number;
}

export interface TokenBudgetsOptions {
  config: TokenBudgetsConfig;
  counter: TokenCounter;
  now?: Clock;
  /** Principals tracked at most; the least recently seen is forgotten. */
  maxPrincipals?: number;
}

/**
 * Tokens of results per principal per fixed window (windows are aligned to multiples of
 * windowMs since the epoch). In `deny` mode a principal whose window is spent is refused before
 * the call (`check`); the call that crosses the line still gets its result. `warn` never refuses:
 * `record` reports `exceeded` for the caller to log.
 */
export class TokenBudgets {
  readonly #config: TokenBudgetsConfig;
  readonly #counter: TokenCounter;
  readonly #now: Clock;
  readonly #maxPrincipals: number;
  readonly #windows = new Map<string, Window>();

  constructor(options: TokenBudgetsOptions) {
    this.#config = options.config;
    this.#counter = options.counter;
    this.#now = options.now ?? systemClock;
    this.#maxPrincipals = options.maxPrincipals ?? 100_000;
  }

  #budget(principal: string): { budget: TokenBudget; rule: string } {
    const own = Object.hasOwn(this.#config.principals, principal) ? this.#config.principals[principal] : undefined;
    return own
      ? { budget: own, rule: `tokenBudgets.principals.${principal}` }
      : { budget: this.#config.perPrincipal, rule: 'tokenBudgets.perPrincipal' };
  }

  #window(principal: string, budget: TokenBudget, now: number): Window {
    const start = Math.floor(now / budget.windowMs) * budget.windowMs;
    let window = this.#windows.get(principal);
    if (!window || window.start !== start) window = { start, used: 0 };
    this.#windows.delete(principal);
    this.#windows.set(principal, window);
    if (this.#windows.size > this.#maxPrincipals) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
    return window;
  }

  #usage(principal: string, tokens: number): BudgetUsage {
    const now = this.#now();
    const { budget, rule } = this.#budget(principal);
    const window = this.#window(principal, budget, now);
    window.used += tokens;
    return {
      principal,
      tokens,
      used: window.used,
      limit: budget.tokens,
      remaining: Math.max(0, budget.tokens - window.used),
      exceeded: window.used >= budget.tokens,
      mode: budget.mode,
      windowEndsAt: window.start + budget.windowMs,
      rule,
    };
  }

  usage(principal: string): BudgetUsage {
    return this.#usage(principal, 0);
  }

  /** Before a call: throws MESH_TOKEN_BUDGET_EXCEEDED when the principal's deny-mode budget is spent. */
  check(principal: string): void {
    const usage = this.usage(principal);
    if (!usage.exceeded || usage.mode !== 'deny') return;
    const retryAfterMs = Math.max(0, usage.windowEndsAt - this.#now());
    throw denial(
      'MESH_TOKEN_BUDGET_EXCEEDED',
      `token budget spent: ${usage.used} of ${usage.limit} tokens in this window; retry in ${retryAfterMs} ms`,
      usage.rule,
      {
        used: usage.used,
        limit: usage.limit,
        retryAfterMs,
      },
    );
  }

  /** After a call: counts the result's tokens against the principal's window. */
  record(principal: string, result: unknown): BudgetUsage {
    let tokens = 0;
    for (const text of resultText(result)) tokens += this.#counter.count(text);
    return this.#usage(principal, tokens);
  }
}

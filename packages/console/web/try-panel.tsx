import { useEffect, useState } from 'preact/hooks';
import type { CallResponse, CatalogServer } from '../src/api-types.js';
import { api, ApiFailure } from './api.js';
import { OutcomeBadge } from './badges.js';
import type { ToolChoice } from './catalog-view.js';
import { formatMs, pretty } from './format.js';
import { exampleArguments } from './schema-example.js';

/** The text blocks of a tool result, joined: what a person wants to read first. */
function textOf(result: unknown): string {
  const content = (result as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block): block is { type: 'text'; text: string } => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n');
}

type Outcome = { kind: 'answer'; answer: CallResponse } | { kind: 'failure'; message: string };

/**
 * Calls one tool with JSON arguments. The server answers the call through the mesh's own MCP
 * endpoint as the signed-in caller, so the same policy applies and the call is audited.
 */
export function TryPanel({
  servers,
  choice,
  onChoose,
}: {
  servers: CatalogServer[] | null;
  choice: ToolChoice | null;
  onChoose: (choice: ToolChoice) => void;
}) {
  const callable = (servers ?? []).filter((server) => server.tools.length > 0);
  const server = callable.find((s) => s.name === choice?.server) ?? callable[0];
  const tool = server?.tools.find((t) => t.name === choice?.tool) ?? server?.tools[0];
  const [args, setArgs] = useState('{}');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const key = server && tool ? `${server.name}/${tool.name}` : '';

  useEffect(() => {
    setArgs(exampleArguments(tool?.inputSchema));
    setOutcome(null);
  }, [key]);

  if (!server || !tool) {
    return (
      <section class="panel try" data-testid="try-panel">
        <h2>Try it</h2>
        <p class="muted">{servers === null ? 'Loading…' : 'There is no tool you may call.'}</p>
      </section>
    );
  }

  let parseError: string | null = null;
  let parsed: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(args);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) parseError = 'arguments must be a JSON object';
    else parsed = value as Record<string, unknown>;
  } catch (error) {
    parseError = (error as Error).message;
  }

  const call = async (event: Event) => {
    event.preventDefault();
    if (!parsed) return;
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome({ kind: 'answer', answer: await api.call({ server: server.name, tool: tool.name, arguments: parsed }) });
    } catch (error) {
      setOutcome({ kind: 'failure', message: error instanceof ApiFailure ? `${error.code}: ${error.message}` : String(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel try" data-testid="try-panel">
      <h2>Try it</h2>
      <form onSubmit={call}>
        <div class="row">
          <label>
            server
            <select
              value={server.name}
              data-testid="try-server"
              onChange={(event) => {
                const name = (event.target as HTMLSelectElement).value;
                const next = callable.find((s) => s.name === name);
                if (next?.tools[0]) onChoose({ server: name, tool: next.tools[0].name });
              }}
            >
              {callable.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            tool
            <select
              value={tool.name}
              data-testid="try-tool"
              onChange={(event) => onChoose({ server: server.name, tool: (event.target as HTMLSelectElement).value })}
            >
              {server.tools.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        {tool.description ? <p class="tool-description">{tool.description}</p> : null}
        <label>
          arguments (JSON)
          <textarea
            rows={7}
            spellcheck={false}
            value={args}
            data-testid="try-args"
            onInput={(event) => setArgs((event.target as HTMLTextAreaElement).value)}
          />
        </label>
        {parseError ? <p class="error small-text">{parseError}</p> : null}
        <button type="submit" disabled={busy || parsed === null} data-testid="try-call">
          {busy ? 'Calling…' : `Call ${tool.name}`}
        </button>
      </form>
      {outcome?.kind === 'failure' ? (
        <p class="error" data-testid="try-error">
          {outcome.message}
        </p>
      ) : null}
      {outcome?.kind === 'answer' ? (
        <div class="result" data-testid="try-outcome" data-outcome={outcome.answer.outcome}>
          <div class="result-head">
            <OutcomeBadge outcome={outcome.answer.outcome} />
            <span class="muted">{formatMs(outcome.answer.latencyMs)}</span>
          </div>
          {outcome.answer.error ? (
            <pre class="json" data-testid="try-result">
              {`${outcome.answer.error.code}: ${outcome.answer.error.message}`}
              {outcome.answer.error.data === undefined ? '' : `\n${pretty(outcome.answer.error.data)}`}
            </pre>
          ) : (
            <>
              <pre class="json" data-testid="try-result">
                {textOf(outcome.answer.result) || pretty(outcome.answer.result)}
              </pre>
              <details>
                <summary>full result</summary>
                <pre class="json">{pretty(outcome.answer.result)}</pre>
              </details>
            </>
          )}
        </div>
      ) : null}
    </section>
  );
}

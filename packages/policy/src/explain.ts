import type { Explanation, Target } from './authorizer.js';
import type { Rule } from './config.js';

function describeTarget(target: Target): string {
  return target.kind === 'server' ? `server ${target.server}` : `${target.kind} ${target.name ?? ''} of server ${target.server}`;
}

function describeRule(spec: Rule): string {
  const parts: string[] = [];
  for (const key of ['servers', 'tools', 'prompts', 'resources'] as const) {
    const globs = spec[key];
    if (globs) parts.push(`${key}: ${globs.join(', ')}`);
  }
  return parts.join('; ');
}

/** Plain-text rendering of an explanation, for `mcp-mesh explain`. */
export function formatExplanation(explanation: Explanation): string {
  const { decision } = explanation;
  const lines = [
    `${explanation.principal} → ${describeTarget(explanation.target)}: ${decision.allowed ? 'ALLOWED' : 'DENIED'} by ${decision.rule}`,
  ];
  const roles = explanation.roles.map((r) => `${r.role} (${r.from}${r.defined ? '' : ', not defined: grants nothing'})`);
  lines.push(`roles: ${roles.length > 0 ? roles.join(', ') : 'none'}`);
  if (explanation.rules.length > 0) {
    lines.push('rules (deny first):');
    for (const rule of explanation.rules) {
      const mark = rule.decisive ? '← decided' : rule.matched ? 'matches' : 'no match';
      lines.push(`  ${rule.effect.padEnd(5)} ${rule.rule}  ${describeRule(rule.spec)}  ${mark}`);
    }
  }
  if (decision.rule === 'rbac.default-deny') lines.push('no allow rule of these roles covers it, so it is denied by default');
  return lines.join('\n');
}

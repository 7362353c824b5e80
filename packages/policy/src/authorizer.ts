import { DEFAULT_SEPARATOR, MeshError, splitNamespacedName } from '@mcp-mesh/protocol';
import type { RbacConfig, Rule } from './config.js';
import { denial } from './denial.js';
import { compileGlob, matchesAny, type Glob } from './glob.js';

export const TargetKind = {
  Server: 'server',
  Tool: 'tool',
  Prompt: 'prompt',
  Resource: 'resource',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** What is asked for: a server as a whole, or one tool, prompt or resource (URI or URI template) of it. */
export interface Target {
  readonly kind: TargetKind;
  readonly server: string;
  /** Tool or prompt name, resource URI or URI template, as the server knows it (not namespaced). */
  readonly name?: string;
}

/** Who asks: the principal and the roles its credential carries (an Identity fits). */
export interface Subject {
  readonly principal: string;
  readonly roles?: readonly string[];
}

export interface Decision {
  readonly allowed: boolean;
  /** The rule that decided: `rbac.roles.<role>.deny[i]`, `rbac.roles.<role>.allow[i]`, `rbac.default-deny` or `rbac.off`. */
  readonly rule: string;
  readonly role?: string;
}

export const RoleOrigin = { Credential: 'credential', Principal: 'principal', Default: 'default' } as const;
export type RoleOrigin = (typeof RoleOrigin)[keyof typeof RoleOrigin];

export interface RoleTrace {
  readonly role: string;
  readonly from: RoleOrigin;
  /** False for a role no `rbac.roles` entry defines (it grants nothing). */
  readonly defined: boolean;
}

export interface RuleTrace {
  readonly rule: string;
  readonly role: string;
  readonly effect: 'allow' | 'deny';
  /** Whether the rule covers the target. */
  readonly matched: boolean;
  /** Whether this is the rule that decided (the first match, deny rules first). */
  readonly decisive: boolean;
  readonly spec: Rule;
}

export interface Explanation {
  readonly principal: string;
  readonly target: Target;
  readonly roles: readonly RoleTrace[];
  readonly decision: Decision;
  /** Every rule of the principal's roles, deny rules first, in the order they are weighed. */
  readonly rules: readonly RuleTrace[];
}

/** An item of a tools, prompts, resources or resource-templates list. */
export interface ListItem {
  readonly name?: string;
  readonly uri?: string;
  readonly uriTemplate?: string;
}

interface CompiledRule {
  readonly id: string;
  readonly role: string;
  readonly effect: 'allow' | 'deny';
  readonly spec: Rule;
  readonly servers: readonly Glob[] | undefined;
  readonly byKind: Partial<Record<Exclude<TargetKind, 'server'>, readonly Glob[]>>;
  /** Whether the rule names any of tools/prompts/resources. */
  readonly namesKinds: boolean;
}

interface CompiledRole {
  readonly deny: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
}

function compileRule(role: string, effect: 'allow' | 'deny', index: number, spec: Rule): CompiledRule {
  const globs = (list: readonly string[] | undefined) => list?.map(compileGlob);
  const byKind: CompiledRule['byKind'] = {};
  if (spec.tools) byKind.tool = globs(spec.tools);
  if (spec.prompts) byKind.prompt = globs(spec.prompts);
  if (spec.resources) byKind.resource = globs(spec.resources);
  const namesKinds = Object.keys(byKind).length > 0;
  return { id: `rbac.roles.${role}.${effect}[${index}]`, role, effect, spec, servers: globs(spec.servers), byKind, namesKinds };
}

/**
 * Whether a rule covers a target. A rule without `servers` covers every server. A rule that names
 * none of tools/prompts/resources covers the whole server (every kind); one that names some covers
 * only those kinds. A server as a whole is visible through any allow rule that covers it, and is
 * denied only by a deny rule that covers the whole server.
 */
function covers(rule: CompiledRule, target: Target): boolean {
  if (rule.servers && !matchesAny(rule.servers, target.server)) return false;
  if (target.kind === TargetKind.Server) return rule.effect === 'allow' || !rule.namesKinds;
  if (!rule.namesKinds) return true;
  const globs = rule.byKind[target.kind];
  return globs !== undefined && target.name !== undefined && matchesAny(globs, target.name) !== undefined;
}

/**
 * Role-based access control over servers, tools, prompts and resources, with globs. Deny rules
 * win over allow rules; with no matching allow rule the answer is no (`rbac.default-deny`).
 * Without an `rbac` section everything is allowed (`rbac.off`).
 */
export class Authorizer {
  readonly #rbac: RbacConfig | undefined;
  readonly #roles = new Map<string, CompiledRole>();
  readonly #separator: string;

  constructor(options: { rbac?: RbacConfig | undefined; separator?: string } = {}) {
    this.#rbac = options.rbac;
    this.#separator = options.separator ?? DEFAULT_SEPARATOR;
    for (const [name, role] of Object.entries(options.rbac?.roles ?? {})) {
      this.#roles.set(name, {
        deny: role.deny.map((spec, i) => compileRule(name, 'deny', i, spec)),
        allow: role.allow.map((spec, i) => compileRule(name, 'allow', i, spec)),
      });
    }
  }

  get enabled(): boolean {
    return this.#rbac !== undefined;
  }

  /** The subject's roles with where each came from: credential, `rbac.principals`, `rbac.defaultRoles`. */
  rolesOf(subject: Subject): RoleTrace[] {
    const traces: RoleTrace[] = [];
    const seen = new Set<string>();
    const add = (roles: readonly string[] | undefined, from: RoleOrigin) => {
      for (const role of roles ?? []) {
        if (seen.has(role)) continue;
        seen.add(role);
        traces.push({ role, from, defined: this.#roles.has(role) });
      }
    };
    add(subject.roles, RoleOrigin.Credential);
    const principals = this.#rbac?.principals;
    add(principals && Object.hasOwn(principals, subject.principal) ? principals[subject.principal] : undefined, RoleOrigin.Principal);
    add(this.#rbac?.defaultRoles, RoleOrigin.Default);
    return traces;
  }

  can(subject: Subject, target: Target): Decision {
    if (!this.#rbac) return RBAC_OFF;
    return firstMatch(this.#rulesOf(this.rolesOf(subject)), target);
  }

  /** Throws MESH_FORBIDDEN naming the deciding rule when `can` says no. */
  authorize(subject: Subject, target: Target): void {
    const decision = this.can(subject, target);
    if (decision.allowed) return;
    const what =
      target.kind === TargetKind.Server
        ? `server '${target.server}'`
        : `${target.kind} '${target.name ?? ''}' of server '${target.server}'`;
    throw denial('MESH_FORBIDDEN', `${subject.principal} may not use ${what} (rule ${decision.rule})`, decision.rule, {
      principal: subject.principal,
      kind: target.kind,
      server: target.server,
      ...(target.name !== undefined ? { name: target.name } : {}),
    });
  }

  /**
   * The items of one server's list that the subject may use, in order: a client never sees what
   * it may not call. Tools and prompts match by `name`, resources by `uri`, templates by
   * `uriTemplate`; an item without its key is left out.
   */
  filterList<T extends ListItem>(subject: Subject, server: string, kind: Exclude<TargetKind, 'server'>, items: readonly T[]): T[] {
    if (!this.enabled) return [...items];
    // The subject's rules are the same for every item: gather them once.
    const rules = this.#rulesOf(this.rolesOf(subject));
    return items.filter((item) => {
      const name = kind === TargetKind.Resource ? (item.uri ?? item.uriTemplate) : item.name;
      return typeof name === 'string' && firstMatch(rules, { kind, server, name }).allowed;
    });
  }

  /**
   * The decision for a principal (name or Subject) and a target (`<server><sep><tool>`, a bare
   * server name, or a Target), with the roles and every rule weighed: `mcp-mesh explain`.
   */
  explain(subject: Subject | string, target: Target | string): Explanation {
    const who = typeof subject === 'string' ? { principal: subject } : subject;
    const what = typeof target === 'string' ? this.#parseTarget(target) : target;
    const { decision, rules, roles } = this.#decide(who, what);
    return { principal: who.principal, target: what, roles, decision, rules };
  }

  #parseTarget(text: string): Target {
    const split = splitNamespacedName(text, this.#separator);
    if (split) return { kind: TargetKind.Tool, server: split.server, name: split.name };
    if (text.length > 0 && !text.includes(this.#separator)) return { kind: TargetKind.Server, server: text };
    throw new MeshError('MESH_INVALID_PARAMS', `expected <server>${this.#separator}<tool> or <server>, got '${text}'`);
  }

  /** The rules of the roles, in the order they are weighed: every deny rule, then every allow rule. */
  #rulesOf(roles: readonly RoleTrace[]): CompiledRule[] {
    const compiled = roles.flatMap((r) => this.#roles.get(r.role) ?? []);
    return [...compiled.flatMap((role) => role.deny), ...compiled.flatMap((role) => role.allow)];
  }

  /** The decision with every rule weighed, for an explanation. */
  #decide(subject: Subject, target: Target): { decision: Decision; rules: RuleTrace[]; roles: RoleTrace[] } {
    const roles = this.rolesOf(subject);
    const rules: RuleTrace[] = [];
    if (!this.#rbac) return { decision: RBAC_OFF, rules, roles };
    let decision: Decision | undefined;
    for (const rule of this.#rulesOf(roles)) {
      const matched = covers(rule, target);
      const decisive = matched && decision === undefined;
      if (decisive) decision = decide(rule);
      rules.push({ rule: rule.id, role: rule.role, effect: rule.effect, matched, decisive, spec: rule.spec });
    }
    return { decision: decision ?? DEFAULT_DENY, rules, roles };
  }
}

const RBAC_OFF: Decision = Object.freeze({ allowed: true, rule: 'rbac.off' });
const DEFAULT_DENY: Decision = Object.freeze({ allowed: false, rule: 'rbac.default-deny' });

function decide(rule: CompiledRule): Decision {
  return { allowed: rule.effect === 'allow', rule: rule.id, role: rule.role };
}

/** The decision of the first rule that covers the target (deny rules come first), else default deny. */
function firstMatch(rules: readonly CompiledRule[], target: Target): Decision {
  for (const rule of rules) if (covers(rule, target)) return decide(rule);
  return DEFAULT_DENY;
}

/**
 * The glob patterns of RBAC rules:
 *
 * - `*` matches any run of characters, none included, `/` and `.` included;
 * - `?` matches exactly one character (a code point);
 * - `\` makes the next character literal (`\*` is a star, `\\` a backslash);
 * - every other character matches itself, case-sensitively.
 *
 * No regular expression is ever built from a pattern, so a pattern can neither inject regex syntax
 * nor backtrack catastrophically: matching is iterative, O(pattern × text) at worst, and never
 * throws for any string.
 */

const STAR = 0;
const ANY = 1;
type Token = typeof STAR | typeof ANY | string;

export interface Glob {
  readonly source: string;
  test(text: string): boolean;
}

function tokenize(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '\\') {
      // A trailing backslash stands for itself.
      tokens.push(i + 1 < chars.length ? (chars[++i] as string) : '\\');
    } else if (ch === '*') {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
    } else if (ch === '?') {
      tokens.push(ANY);
    } else {
      tokens.push(ch);
    }
  }
  return tokens;
}

function matchTokens(tokens: readonly Token[], text: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (p < tokens.length && (token === ANY || token === text[t])) {
      p++;
      t++;
    } else if (p < tokens.length && token === STAR) {
      starP = p++;
      starT = t;
    } else if (starP !== -1) {
      // Let the last star swallow one more character and try again from there.
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < tokens.length && tokens[p] === STAR) p++;
  return p === tokens.length;
}

export function compileGlob(pattern: string): Glob {
  const tokens = tokenize(pattern);
  const literal = tokens.every((token) => typeof token === 'string') ? (tokens as string[]).join('') : undefined;
  const matchAll = tokens.length === 1 && tokens[0] === STAR;
  return {
    source: pattern,
    test(text: string): boolean {
      if (matchAll) return true;
      if (literal !== undefined) return text === literal;
      return matchTokens(tokens, Array.from(text));
    },
  };
}

/** One-shot match; compile once with `compileGlob` where a pattern is used often. */
export function globMatch(pattern: string, text: string): boolean {
  return compileGlob(pattern).test(text);
}

export function matchesAny(globs: readonly Glob[], text: string): Glob | undefined {
  return globs.find((glob) => glob.test(text));
}

import { BpeCounter, o200kRanks } from './bpe-ranks.js';

/**
 * Counting the tokens of text with the o200k_base encoding (GPT-4o and later): gpt-tokenizer's
 * ranks and pre-tokenisation, held compactly (`bpe-ranks.ts`), offline (the ranks ship in the package).
 *
 * BPE merging is quadratic in the length of one pre-tokenised piece, and a single piece can be as
 * long as a run of letters without a space (a base64 blob, CJK text): 40k such characters take
 * seconds. Text is therefore cut so that no run of whitespace or of non-whitespace is longer than
 * `maxRunLength` code units before it is encoded. Normal prose is unaffected; a long unbroken run
 * is counted as if it had a break every `maxRunLength` characters (a slight overcount), and the
 * cost stays linear in the size of the text.
 */

export interface TokenCounter {
  count(text: string): number;
}

export interface TokenCounterOptions {
  /** Longest run counted in one piece (default 128). */
  maxRunLength?: number;
}

/** Exactly JavaScript's `\s` (the split pattern's whitespace): a run of it is one piece however long. */
function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Pieces of `text` with no homogeneous run longer than `maxRun`, never splitting a surrogate pair. */
export function boundedSegments(text: string, maxRun: number): string[] {
  const segments: string[] = [];
  let start = 0;
  let runStart = 0;
  let previous: boolean | undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const space = isSpace(code);
    if (space !== previous) {
      runStart = i;
      previous = space;
    } else if (i - runStart >= maxRun && !isLowSurrogate(code)) {
      segments.push(text.slice(start, i));
      start = i;
      runStart = i;
    }
  }
  if (start < text.length) segments.push(text.slice(start));
  return segments;
}

/**
 * Loads the encoding (about 60 ms, once per process; counters share it) and returns a counter that
 * never throws on any string. Special-token text such as "<|endoftext|>" counts as ordinary text.
 */
export async function createTokenCounter(options: TokenCounterOptions = {}): Promise<TokenCounter> {
  const counter = new BpeCounter(await o200kRanks());
  const maxRun = options.maxRunLength ?? 128;
  return {
    count(text: string): number {
      let total = 0;
      for (const segment of boundedSegments(text, maxRun)) total += counter.count(segment);
      return total;
    },
  };
}

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

/**
 * The o200k_base byte-pair ranks in three typed arrays, and a counter of the tokens of a string.
 *
 * gpt-tokenizer (decision 0007) holds the same ranks as a JavaScript module: parsing its 2.4 MB
 * array literal and keeping 200 000 strings in a `Map` cost the ingress ~33 MB of RSS (131 vs
 * 98 MB idle, docs/performance.md, finding 4). Here the ranks come from the same package's
 * `data/o200k_base.tiktoken` (the tiktoken text format: `base64(token bytes) rank` per line) into
 * ~4 MB: every token's bytes back to back, their offsets by rank, and an open-addressing hash
 * table of ranks. Pre-tokenisation is gpt-tokenizer's own o200k pattern; merging is the usual
 * byte-pair merge (lowest-ranked adjacent pair first). Counts equal gpt-tokenizer's `countTokens`
 * (a property test compares them on random text) with one known exception: U+FEFF (a byte-order
 * mark) is one token here, as in the ranks file and tiktoken, while gpt-tokenizer decodes its
 * nine ranks that begin with those bytes with a TextDecoder that drops the mark, and counts two.
 */
export class BpeRanks {
  private constructor(
    /** Every token's bytes, back to back, in rank order. */
    private readonly bytes: Uint8Array,
    /** `offsets[r]`..`offsets[r + 1]` are the bytes of rank `r`. */
    private readonly offsets: Uint32Array,
    /** Open addressing, linear probing: rank + 1, 0 for an empty slot. */
    private readonly table: Int32Array,
  ) {}

  get size(): number {
    return this.offsets.length - 1;
  }

  /**
   * Parses tiktoken's rank file; ranks must be 0, 1, 2, … in order (they are in every published
   * file). Two passes over the bytes and no allocation per line: the file is parsed straight into
   * its final arrays, so loading leaves no garbage behind for the process to keep.
   */
  static parse(file: Uint8Array, source = 'rank file'): BpeRanks {
    // Pass 1: count the lines and the decoded bytes, checking each line's shape and rank.
    let lines = 0;
    let total = 0;
    forEachLine(file, (start, space, end) => {
      if (space === -1) throw new Error(`${source}: line ${lines + 1} is not "<base64> <rank>"`);
      const rank = parseRank(file, space + 1, end);
      if (rank !== lines)
        throw new Error(
          `${source}: line ${lines + 1} has rank ${rank === -1 ? 'that is not a number' : rank}, expected ${lines} (ranks must be consecutive)`,
        );
      total += decodedLength(file, start, space);
      lines++;
    });
    if (lines === 0) throw new Error(`${source}: no ranks`);
    // Pass 2: decode into the final arrays.
    const bytes = new Uint8Array(total);
    const offsets = new Uint32Array(lines + 1);
    let rank = 0;
    let written = 0;
    forEachLine(file, (start, space) => {
      written = decodeBase64(file, start, space, bytes, written, source, rank + 1);
      offsets[++rank] = written;
    });
    let slots = 1;
    while (slots < lines * 2) slots <<= 1;
    const table = new Int32Array(slots);
    const ranks = new BpeRanks(bytes, offsets, table);
    for (let r = 0; r < lines; r++) {
      const from = offsets[r]!;
      const to = offsets[r + 1]!;
      if (ranks.rankOf(bytes, from, to) !== -1) throw new Error(`${source}: the token of rank ${r} appears twice`);
      let slot = hashBytes(bytes, from, to) & (slots - 1);
      while (table[slot] !== 0) slot = (slot + 1) & (slots - 1);
      table[slot] = r + 1;
    }
    return ranks;
  }

  /** The rank of `input[start..end)`, or -1 when those bytes are not a token. */
  rankOf(input: Uint8Array, start: number, end: number): number {
    const mask = this.table.length - 1;
    const length = end - start;
    let slot = hashBytes(input, start, end) & mask;
    for (;;) {
      const entry = this.table[slot]!;
      if (entry === 0) return -1;
      const rank = entry - 1;
      const from = this.offsets[rank]!;
      if (this.offsets[rank + 1]! - from === length) {
        let same = true;
        for (let i = 0; i < length; i++) {
          if (this.bytes[from + i] !== input[start + i]) {
            same = false;
            break;
          }
        }
        if (same) return rank;
      }
      slot = (slot + 1) & mask;
    }
  }
}

/** FNV-1a over bytes. */
function hashBytes(input: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ input[i]!, 0x01000193);
  return hash >>> 0;
}

const BASE64_VALUES = (() => {
  const values = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/** Calls `line(start, space, end)` for every non-empty line; `space` is -1 when the line has none. */
function forEachLine(file: Uint8Array, line: (start: number, space: number, end: number) => void): void {
  let at = 0;
  while (at < file.length) {
    let end = file.indexOf(0x0a, at);
    if (end === -1) end = file.length;
    let stop = end;
    if (stop > at && file[stop - 1] === 0x0d) stop--;
    if (stop > at) {
      const space = file.indexOf(0x20, at);
      line(at, space === -1 || space >= stop ? -1 : space, stop);
    }
    at = end + 1;
  }
}

/** The decimal number in `file[start..end)`, or -1. */
function parseRank(file: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 9) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = file[i]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Bytes that the base64 text `file[start..end)` decodes to. */
function decodedLength(file: Uint8Array, start: number, end: number): number {
  let length = end - start;
  while (length > 0 && file[start + length - 1] === 0x3d) length--;
  return Math.floor((length * 6) / 8);
}

/** Decodes standard base64 (with `=` padding) from `input[start..end)` into `out` at `at`; returns the new end. */
function decodeBase64(input: Uint8Array, start: number, end: number, out: Uint8Array, at: number, source: string, line: number): number {
  let bits = 0;
  let count = 0;
  for (let i = start; i < end; i++) {
    const code = input[i]!;
    if (code === 0x3d) break;
    const value = code < 128 ? BASE64_VALUES[code]! : -1;
    if (value === -1) throw new Error(`${source}: line ${line} is not base64`);
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[at++] = (bits >> count) & 0xff;
    }
  }
  return at;
}

/** Scratch bytes kept between calls; a larger piece gets buffers of its own for that call. */
const SCRATCH_KEPT = 64 * 1024;
/** Pieces whose count is remembered (the oldest goes first when full). */
const MERGE_CACHE_ENTRIES = 4096;
/** Longer pieces are merged every time: the cache's memory stays under ~2 MB whatever the text. */
const MERGE_CACHE_MAX_PIECE = 256;

/**
 * Counts byte-pair-encoded tokens, reusing its scratch buffers between calls (not re-entrant; JS is
 * single-threaded). Merging a piece costs O(n²) lookups, and text repeats its pieces (words, and
 * the 128-character cuts of a long run such as base64 or "xxxx…"), so pieces' counts are kept in a
 * small bounded cache (a string lookup is also cheaper than encoding and hashing the bytes).
 */
export class BpeCounter {
  private readonly merged = new Map<string, number>();
  private readonly split = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);
  private readonly encoder = new TextEncoder();
  private scratch = new Uint8Array(1024);
  private starts = new Int32Array(1025);
  private pairRanks = new Int32Array(1025);

  constructor(private readonly ranks: BpeRanks) {}

  /** Tokens of `text`, special-token text counted as plain text. */
  count(text: string): number {
    try {
      return this.countAll(text);
    } finally {
      // One huge piece grew the scratch buffers: they are not kept.
      if (this.scratch.length > SCRATCH_KEPT) this.grow(1024);
    }
  }

  private countAll(text: string): number {
    const split = this.split;
    split.lastIndex = 0;
    let total = 0;
    let match: RegExpExecArray | null;
    while ((match = split.exec(text)) !== null) {
      const piece = match[0];
      if (piece.length === 0) {
        split.lastIndex++;
        continue;
      }
      total += this.countPiece(piece);
    }
    return total;
  }

  private countPiece(piece: string): number {
    const cacheable = piece.length <= MERGE_CACHE_MAX_PIECE;
    if (cacheable) {
      const known = this.merged.get(piece);
      if (known !== undefined) return known;
    }
    if (this.scratch.length < piece.length * 3) this.grow(piece.length * 3);
    const { written } = this.encoder.encodeInto(piece, this.scratch);
    const bytes = this.scratch;
    // gpt-tokenizer looks the piece up as a string first, which a lone surrogate never matches.
    const count = piece.isWellFormed() && this.ranks.rankOf(bytes, 0, written) !== -1 ? 1 : this.merge(bytes, written);
    if (cacheable) {
      if (this.merged.size >= MERGE_CACHE_ENTRIES) this.merged.delete(this.merged.keys().next().value!);
      this.merged.set(piece, count);
    }
    return count;
  }

  /** Byte-pair merge of `bytes[0..length)`; returns how many tokens it ends with. */
  private merge(bytes: Uint8Array, length: number): number {
    const starts = this.starts;
    const pairRanks = this.pairRanks;
    let parts = length; // parts[i] = bytes[starts[i]..starts[i + 1])
    for (let i = 0; i <= length; i++) starts[i] = i;
    for (let i = 0; i < parts - 1; i++) pairRanks[i] = this.pairRank(bytes, i, parts);
    while (parts > 1) {
      let lowest = -1;
      let lowestAt = -1;
      for (let i = 0; i < parts - 1; i++) {
        const rank = pairRanks[i]!;
        if (rank !== -1 && (lowest === -1 || rank < lowest)) {
          lowest = rank;
          lowestAt = i;
        }
      }
      if (lowestAt === -1) break;
      // Merge parts lowestAt and lowestAt + 1.
      starts.copyWithin(lowestAt + 1, lowestAt + 2, parts + 1);
      pairRanks.copyWithin(lowestAt, lowestAt + 1, parts - 1);
      parts--;
      if (lowestAt < parts - 1) pairRanks[lowestAt] = this.pairRank(bytes, lowestAt, parts);
      if (lowestAt > 0) pairRanks[lowestAt - 1] = this.pairRank(bytes, lowestAt - 1, parts);
    }
    return parts;
  }

  /** Rank of parts `i` and `i + 1` joined, or -1. */
  private pairRank(bytes: Uint8Array, i: number, parts: number): number {
    if (i + 2 > parts) return -1;
    return this.ranks.rankOf(bytes, this.starts[i]!, this.starts[i + 2]!);
  }

  private grow(size: number): void {
    this.scratch = new Uint8Array(size);
    this.starts = new Int32Array(size + 1);
    this.pairRanks = new Int32Array(size + 1);
  }
}

let loaded: Promise<BpeRanks> | undefined;

/** The o200k_base ranks, read once per process from gpt-tokenizer's data file (~60 ms); a failed read is tried again next time. */
export function o200kRanks(): Promise<BpeRanks> {
  if (loaded) return loaded;
  const loading = (async () => {
    const path = createRequire(import.meta.url).resolve('gpt-tokenizer/data/o200k_base.tiktoken');
    return BpeRanks.parse(await readFile(path), path);
  })();
  loaded = loading;
  loading.catch(() => {
    if (loaded === loading) loaded = undefined;
  });
  return loading;
}

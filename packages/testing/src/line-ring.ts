/**
 * A fixed-capacity ring of text lines: keeps the most recent `capacity`
 * lines and silently drops the oldest ones.
 */
export class LineRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];

  constructor(capacity = 200) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LineRing capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) {
      this.#lines.splice(0, this.#lines.length - this.#capacity);
    }
  }

  /** A copy of the retained lines, oldest first. */
  lines(): string[] {
    return [...this.#lines];
  }

  /** The retained lines joined with newlines (handy in error messages). */
  text(): string {
    return this.#lines.join('\n');
  }
}

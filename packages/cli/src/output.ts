/** Human output helpers: colours only when writing to a terminal (and NO_COLOR is unset). */
const useColour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

function paint(code: number, text: string): string {
  return useColour ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const colour = {
  green: (text: string) => paint(32, text),
  red: (text: string) => paint(31, text),
  yellow: (text: string) => paint(33, text),
  dim: (text: string) => paint(2, text),
  bold: (text: string) => paint(1, text),
};

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

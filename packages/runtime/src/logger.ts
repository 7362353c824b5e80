import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Paths redacted in every log line: credentials never reach logs. */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  'apiKey',
  'env',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.apiKey',
  '*.env',
  '*.headers.authorization',
  '*.headers.cookie',
];

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Where lines go; stderr by default so stdout stays free for protocol or command output. */
  destination?: DestinationStream;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
  /** Fields computed for every line (the binaries pass the active trace and span ids). */
  mixin?: () => Record<string, unknown>;
}

/** One root logger per process; components take `logger.child({ component })`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(options.mixin ? { mixin: options.mixin } : {}),
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

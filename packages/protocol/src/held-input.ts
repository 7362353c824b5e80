import { z } from 'zod';

/**
 * A legacy-only upstream (2025 era) asks its client with push requests (sampling, elicitation,
 * roots) in the middle of a call; a 2026-07-28 client cannot take a push, it is asked with an
 * `input_required` result and retries (SEP-2322). The mesh translates: the ingress ends the
 * client's request with `input_required` while the bridge holds the upstream call open, and the
 * `requestState` it mints names where that held call waits for the answer. The value is the
 * client's to echo, not to read: `mesh-input~` + base64url(JSON of {@link HeldInputStateSchema}).
 *
 * It is not sealed (ingress replicas share no key); what makes it safe to accept from a client is
 * that `replyTo` must be a NATS inbox, whose random name is known only to the ingress that got the
 * request frame and to this client, and that the bridge listens there for one answer only.
 */
const PREFIX = 'mesh-input~';

/** The key of the one input request in a translated `input_required` result. */
export const HELD_INPUT_KEY = 'mesh_upstream_request';

export const HeldInputStateSchema = z
  .object({
    v: z.literal(1),
    /** The server whose upstream holds the call, and the request the state belongs to. */
    server: z.string().min(1).max(256),
    method: z.string().min(1).max(256),
    name: z.string().max(1_024).optional(),
    /** The bridge replica holding the call. */
    instance: z.string().min(1).max(256),
    /** The NATS inbox the bridge waits on for the answer. */
    replyTo: z.string().regex(/^_INBOX\.[A-Za-z0-9_-]{1,64}$/),
    /** The server->client method asked, whose result the client's inputResponses entry is. */
    asked: z.enum(['sampling/createMessage', 'elicitation/create', 'roots/list']),
    /** When the held call ends at the bridge, epoch milliseconds. */
    deadline: z.number().int().positive(),
  })
  .strict();
export type HeldInputState = z.infer<typeof HeldInputStateSchema>;

/** The `requestState` a client is given for a held call. */
export function encodeHeldInputState(state: HeldInputState): string {
  return PREFIX + Buffer.from(JSON.stringify(HeldInputStateSchema.parse(state)), 'utf8').toString('base64url');
}

/** True when a `requestState` is one the mesh minted (well formed or not). */
export function isHeldInputState(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** The held call a mesh `requestState` names, or a reason it names none. */
export function parseHeldInputState(value: string): { state: HeldInputState } | { problem: string } {
  if (!value.startsWith(PREFIX) || value.length > 4_096) return { problem: 'it is not a requestState the mesh issued' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return { problem: 'it is not valid base64url JSON' };
  }
  const parsed = HeldInputStateSchema.safeParse(json);
  if (!parsed.success) return { problem: `it is malformed (${parsed.error.issues[0]?.path.join('.') || 'state'})` };
  return { state: parsed.data };
}

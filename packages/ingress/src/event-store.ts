import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

type StreamId = string;
type EventId = string;

/**
 * The SSE events of one session, kept so a client that lost its stream can resume it with
 * `Last-Event-ID`. Bounded: the oldest events go first; a client asking for an event that is gone
 * gets nothing replayed (its id no longer exists) rather than a silently wrong stream.
 */
export class BoundedEventStore implements EventStore {
  private readonly events = new Map<EventId, { stream: StreamId; message: JSONRPCMessage; bytes: number }>();
  private seq = 0;
  private bytes = 0;

  /** At most `capacity` events and about `maxBytes` of them (large results go first when it is full). */
  constructor(
    private readonly capacity = 1_000,
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${streamId}_${(++this.seq).toString(36)}`;
    // Size estimate without serialising: results dominate, and their text is what is large.
    const bytes = estimateSize(message);
    this.events.set(id, { stream: streamId, message, bytes });
    this.bytes += bytes;
    while (this.events.size > this.capacity || (this.bytes > this.maxBytes && this.events.size > 1)) {
      const [oldest, event] = this.events.entries().next().value as [EventId, { bytes: number }];
      this.events.delete(oldest);
      this.bytes -= event.bytes;
    }
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.events.get(eventId)?.stream;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const last = this.events.get(lastEventId);
    if (!last) return '';
    let after = false;
    for (const [id, event] of this.events) {
      if (id === lastEventId) {
        after = true;
        continue;
      }
      if (after && event.stream === last.stream) await send(id, event.message);
    }
    return last.stream;
  }
}

/** A cheap upper-bound-ish size of a message: the lengths of its strings, walked iteratively. */
function estimateSize(message: unknown): number {
  let total = 0;
  const stack: unknown[] = [message];
  let visited = 0;
  while (stack.length > 0 && visited < 10_000) {
    const value = stack.pop();
    visited++;
    if (typeof value === 'string') total += value.length;
    else if (value !== null && typeof value === 'object') {
      for (const inner of Object.values(value)) stack.push(inner);
      total += 8;
    } else total += 8;
  }
  return total;
}

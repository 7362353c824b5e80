import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

type StreamId = string;
type EventId = string;

/**
 * The SSE events of one session, kept so a client that lost its stream can resume it with
 * `Last-Event-ID`. Bounded: the oldest events go first; a client asking for an event that is gone
 * gets nothing replayed (its id no longer exists) rather than a silently wrong stream.
 */
export class BoundedEventStore implements EventStore {
  private readonly events = new Map<EventId, { stream: StreamId; message: JSONRPCMessage }>();
  private seq = 0;

  constructor(private readonly capacity = 1_000) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${streamId}_${(++this.seq).toString(36)}`;
    this.events.set(id, { stream: streamId, message });
    if (this.events.size > this.capacity) {
      const oldest = this.events.keys().next().value;
      if (oldest !== undefined) this.events.delete(oldest);
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

  get size(): number {
    return this.events.size;
  }
}

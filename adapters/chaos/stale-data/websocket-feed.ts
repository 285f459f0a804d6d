// Real mode of stale-data: the feed is a WebSocket server on loopback and the runner its client, so every tick
// crosses a real socket. The feed applies the faults on its side (a stall holds ticks and then sends the backlog
// as a burst, a gap drops them, a delay or a reorder sends them late, a duplicate twice); the runner sees only what
// arrives, when it arrives. The network's latency is the socket's own, so a tick's scheduled delay is sent less
// the model's NETWORK_US.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SimError } from '../../../engine/errors.ts';
import type { EventScheduler } from '../../../scenarios/framework/virtual-scheduler.ts';
import { NETWORK_US, type FeedTransport, type Tick } from '../../../scenarios/stale-data/model.ts';

export interface WebSocketFeed extends FeedTransport {
  /** Ticks the feed wrote to its socket, and messages the runner read from its own. */
  readonly counts: { sent: number; received: number };
  close(): Promise<void>;
}

export async function openWebSocketFeed(scheduler: EventScheduler): Promise<WebSocketFeed> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(url);
  try {
    await once(client, 'open');
  } catch (error) {
    server.close();
    throw new SimError('FEED_CONNECT_FAILED', `expected the loopback feed at ${url} to accept a connection, found ${error instanceof Error ? error.message : String(error)}`);
  }
  const [feedSide] = await accepted;
  const counts = { sent: 0, received: 0 };
  let closed = false;
  const write = (tick: Tick) => {
    if (closed || feedSide.readyState !== WebSocket.OPEN) return;
    counts.sent += 1;
    feedSide.send(JSON.stringify(tick));
  };
  return {
    counts,
    details: { feed: url, transport: 'websocket on loopback' },
    connect(receive) {
      client.on('message', (data) => {
        if (closed) return;
        counts.received += 1;
        receive(JSON.parse(String(data)) as Tick);
      });
    },
    send(tick, delayUs) {
      const wireDelayUs = delayUs - NETWORK_US;
      if (wireDelayUs <= 0) write(tick);
      else scheduler.after(wireDelayUs, () => write(tick));
    },
    async close() {
      closed = true;
      client.terminate();
      feedSide.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// `--listen PORT`: a WebSocket server on 127.0.0.1 that takes what @statelyai/inspect's
// createWebSocketInspector sends (one JSON inspection event per message) into the actor store.
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ActorStore } from './actor-store.js';
import { isInspectionMessage } from './inspection-events.js';
import { loopbackHost } from './request-guard.js';

const MAX_MESSAGE = 1024 * 1024;

export class ListenReceiver {
  readonly #wss: WebSocketServer;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
  }

  static async start(port: number, store: ActorStore): Promise<ListenReceiver> {
    let bound = port;
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port,
      maxPayload: MAX_MESSAGE,
      verifyClient: ({ req }: { req: import('node:http').IncomingMessage }) => loopbackHost(req.headers.host, bound),
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', () => resolve());
      wss.once('error', reject);
    });
    bound = (wss.address() as AddressInfo).port;
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        let message: unknown;
        try {
          message = JSON.parse(String(data));
        } catch {
          return; // not an inspection event: ignored, the sender keeps its connection
        }
        if (isInspectionMessage(message)) store.add(message);
      });
    });
    return new ListenReceiver(wss);
  }

  get port(): number {
    return (this.#wss.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

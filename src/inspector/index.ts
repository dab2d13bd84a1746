// startInspector(): the web inspector for a plugd control API (and/or outside XState apps).
import { ApiClient } from '../cli/api-client.js';
import type { Endpoint } from '../cli/endpoint.js';
import { ActorStore, type RetentionOptions } from './actor-store.js';
import { ListenReceiver } from './listen-receiver.js';
import { PlugdSource } from './plugd-source.js';
import { newToken } from './request-guard.js';
import { InspectorServer } from './server.js';

export interface InspectorOptions {
  /** The control socket of a daemon or control-serving host (or its loopback URL and token); null for `--listen` alone. */
  socket: string | Endpoint | null;
  /** The page's port on 127.0.0.1; 0 picks a free one. Default 7777. */
  port?: number;
  /** Also accept @statelyai/inspect's createWebSocketInspector on this port. */
  listen?: number;
  retention?: RetentionOptions;
}

export interface Inspector {
  /** The URL to open, with its one-time token. */
  readonly url: string;
  readonly port: number;
  /** The `--listen` port, when asked for. */
  readonly listenPort: number | null;
  close(): Promise<void>;
}

/**
 * Serves the inspector page on 127.0.0.1.
 * @example
 * const inspector = await startInspector({ socket: '.plugd/plugd.sock', port: 0 });
 * console.log(inspector.url);
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const store = new ActorStore(options.retention);
  const api = options.socket === null ? null : new ApiClient(options.socket);
  const source = api && new PlugdSource(api, store);
  await source?.start();
  let receiver: ListenReceiver | null = null;
  let server: InspectorServer | null = null;
  try {
    if (options.listen !== undefined) receiver = await ListenReceiver.start(options.listen, store);
    server = await InspectorServer.start({ port: options.port ?? 7777, token: newToken(), store, api });
  } catch (e) {
    await Promise.all([source?.close(), receiver?.close()]);
    throw e;
  }
  const started = server;
  return {
    url: started.url,
    port: started.port,
    listenPort: receiver?.port ?? null,
    async close() {
      await Promise.all([started.close(), source?.close(), receiver?.close()]);
    },
  };
}

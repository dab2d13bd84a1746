// A process plugin served with servePlugin from 'plugd/sdk'.
import { servePlugin, type PluginServer } from 'plugd/sdk';

const volumes = new Set<string>();

const server: PluginServer = await servePlugin({
  implements: ['VolumeDriver'],
  handlers: {
    'VolumeDriver.Create': (body: { Name: string }) => {
      volumes.add(body.Name);
      return {};
    },
    'VolumeDriver.List': () => ({ Volumes: [...volumes].map((Name) => ({ Name })) }),
  },
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));

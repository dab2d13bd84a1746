// A Docker volume driver (VolumeDriver protocol) kept in memory, served with plugd's SDK.
// 'plugd/sdk' resolves to the host's own plugd wherever the store is.
import { servePlugin } from 'plugd/sdk';

const volumes = new Map();
const mountpoint = (name) => `/var/lib/plugd-volumes/${name}`;
const known = (name) => {
  if (!volumes.has(name)) throw new Error(`volume "${name}" does not exist`);
  return volumes.get(name);
};

await servePlugin({
  implements: ['VolumeDriver'],
  handlers: {
    'VolumeDriver.Create': ({ Name, Opts }) => {
      if (volumes.has(Name)) throw new Error(`volume "${Name}" already exists`);
      volumes.set(Name, { Name, Opts: Opts ?? {}, mounts: 0 });
      console.log(`created volume ${Name}`);
      return {};
    },
    'VolumeDriver.Remove': ({ Name }) => {
      if (known(Name).mounts > 0) throw new Error(`volume "${Name}" is mounted`);
      volumes.delete(Name);
      return {};
    },
    'VolumeDriver.Mount': ({ Name }) => {
      known(Name).mounts += 1;
      return { Mountpoint: mountpoint(Name) };
    },
    'VolumeDriver.Unmount': ({ Name }) => {
      known(Name).mounts = Math.max(0, known(Name).mounts - 1);
      return {};
    },
    'VolumeDriver.Path': ({ Name }) => ({ Mountpoint: known(Name).mounts > 0 ? mountpoint(Name) : '' }),
    'VolumeDriver.Get': ({ Name }) => ({ Volume: { Name, Mountpoint: mountpoint(known(Name).Name) } }),
    'VolumeDriver.List': () => ({ Volumes: [...volumes.keys()].map((Name) => ({ Name, Mountpoint: mountpoint(Name) })) }),
    'VolumeDriver.Capabilities': () => ({ Capabilities: { Scope: 'local' } }),
  },
});
console.log('volume driver listening');

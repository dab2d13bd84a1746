// What a worker plugin can and cannot do to its host, probed from inside a worker plugin. The
// refusals are plugd's cheap closures; the rest is what docs/trust.md says stays possible.
import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from '../helpers.js';

async function prober() {
  const sup = await supervisor();
  await sup.install(await bundle('prober'));
  await sup.install(await bundle('greeter'));
  await sup.enable('prober');
  await sup.enable('greeter');
  return { sup, probe: await sup.get('prober', 'Probe') };
}

describe("a worker plugin and its host's process", () => {
  it.each(['SIGTERM', 'SIGKILL', 'default', '_kill', 'group'])(
    'cannot signal the host (process.kill, %s): refused with PLUGD_E_PERMISSION, and the host lives',
    async (how) => {
      const { sup, probe } = await prober();
      await expect(probe.call('Probe.KillHost', { how })).resolves.toMatchObject({ done: false, error: { code: 'PLUGD_E_PERMISSION' } });
      expect(sup.inspect('prober').state).toBe('running');
    },
  );

  it('cannot put the original process.kill back', async () => {
    const { probe } = await prober();
    await expect(probe.call('Probe.KillHost', { how: 'restore' })).resolves.toMatchObject({ done: false });
    await expect(probe.call('Probe.KillHost', { how: 'SIGTERM' })).resolves.toMatchObject({
      done: false,
      error: { code: 'PLUGD_E_PERMISSION' },
    });
  });

  it.each(['exit', 'abort'])('ends only its own instance with process.%s, never the host', async (how) => {
    const { sup, probe } = await prober();
    const disabled = nextState(sup, 'prober', 'disabled');
    await expect(probe.call('Probe.Exit', { how })).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_EXITED' });
    await disabled;
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Hello', { name: 'host' })).resolves.toMatchObject({
      greeting: 'hello host',
    });
  });

  it('finds no path into the store in its ctx, and cannot change ctx', async () => {
    const { sup, probe } = await prober();
    const { strings, frozen } = (await probe.call('Probe.Context')) as { strings: string[]; frozen: boolean };
    expect(strings).toContain('prober'); // the walk does see ctx's strings
    expect(strings.filter((s) => s.includes(sup.root))).toEqual([]);
    expect(frozen).toBe(true);
  });

  it("can still read the host's environment, read and open the store, and run processes (docs/trust.md)", async () => {
    const { probe } = await prober();
    const reach = (await probe.call('Probe.Reach')) as Record<string, { done: boolean; detail?: unknown }> & {
      ownEnv: string[];
      nativeCode: boolean;
    };
    // process.env holds only the plugin's env; /proc/self/environ is the host's whole environment.
    expect(reach.ownEnv).not.toContain('PATH');
    expect(reach.hostEnviron).toMatchObject({ done: true, detail: expect.arrayContaining(['PATH']) });
    expect(reach.readHostMemory).toMatchObject({ done: true, detail: 64 });
    expect(reach.nativeCode).toBe(true);
    expect(reach.readIndex!.done).toBe(true);
    expect(reach.readOtherSettings).toMatchObject({ done: true, detail: 2 });
    expect(reach.openIndexForWriting!.done).toBe(true);
    expect(reach.childProcess!.done).toBe(true);
    expect(reach.signalHostFromChild!.done).toBe(true);
    expect(reach.listen!.done).toBe(true);
  });
});

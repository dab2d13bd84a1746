import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from '../helpers.js';

/** A supervisor running the hostile plugin and a well-behaved greeter beside it. */
async function hostileAndGreeter(options: Parameters<typeof supervisor>[0] = {}) {
  const sup = await supervisor(options);
  await sup.install(await bundle('hostile'));
  await sup.install(await bundle('greeter'));
  await sup.enable('hostile');
  await sup.enable('greeter');
  return { sup, hostile: await sup.get('hostile', 'Hostile'), greeter: await sup.get('greeter', 'Greeter') };
}

const CALL_GARBAGE = [
  'number',
  'null',
  'string',
  'object',
  'empty array',
  'short array',
  'string id',
  'future id',
  'bad error',
  'bad flag',
];
const CONTROL_GARBAGE = [
  'number',
  'null',
  'string',
  'empty array',
  'no id',
  'forged proxy',
  'unknown handler',
  'bad throw',
  'reply to nothing asked',
];
const LOG_GARBAGE = ['number', 'null', 'object', 'array of numbers'];

describe('a plugin thread that posts malformed messages', () => {
  it.each(CALL_GARBAGE)(
    'on its call channel (%s): that instance ends with PLUGD_E_PROTOCOL, the host and other plugins go on',
    async (garbage) => {
      const { sup, hostile, greeter } = await hostileAndGreeter();
      const disabled = nextState(sup, 'hostile', 'disabled');
      await expect(hostile.call('Hostile.Post', { channel: 'call', garbage })).rejects.toMatchObject({ code: 'PLUGD_E_PROTOCOL' });
      await disabled;
      expect(sup.inspect('hostile').lastError).toMatchObject({ code: 'PLUGD_E_PROTOCOL' });
      await expect(greeter.call('Greeter.Hello', { name: 'still here' })).resolves.toMatchObject({ greeting: 'hello still here' });
    },
  );

  it.each(CONTROL_GARBAGE)('on its control channel (%s): that instance ends with PLUGD_E_PROTOCOL', async (garbage) => {
    const { sup, hostile, greeter } = await hostileAndGreeter();
    const disabled = nextState(sup, 'hostile', 'disabled');
    await expect(hostile.call('Hostile.Post', { channel: 'control', garbage })).rejects.toMatchObject({ code: 'PLUGD_E_PROTOCOL' });
    await disabled;
    expect(sup.inspect('hostile').lastError).toMatchObject({ code: 'PLUGD_E_PROTOCOL' });
    await expect(greeter.call('Greeter.Hello', { name: 'still here' })).resolves.toMatchObject({ greeting: 'hello still here' });
  });

  it('in place of its own reply, on a warm-pool thread whose ports it caught on their way out', async () => {
    const { sup, hostile } = await hostileAndGreeter({ warmWorkers: 1 });
    await expect(hostile.call('Hostile.Reply', { garbage: 'number' })).rejects.toMatchObject({ code: 'PLUGD_E_PROTOCOL' });
    await expect.poll(() => sup.inspect('hostile').state).toBe('disabled');
  });

  it.each(LOG_GARBAGE)('on its log port (%s): its log port is closed and noted, every other plugin still logs', async (garbage) => {
    const { sup, hostile, greeter } = await hostileAndGreeter();
    void hostile.call('Hostile.Post', { channel: 'log', garbage }).catch(() => {
      /* never answers */
    });
    await expect.poll(async () => (await sup.logs('hostile')).map((l) => l.code)).toContain('PLUGD_E_PROTOCOL');
    await greeter.call('Greeter.Print', { lines: ['after the garbage'] });
    await expect.poll(async () => (await sup.logs('greeter')).map((l) => l.msg)).toContain('after the garbage');
  });

  it('in place of a log batch, on a warm-pool thread: the log pump goes on for the others', async () => {
    const { sup, hostile, greeter } = await hostileAndGreeter({ warmWorkers: 1 });
    await expect(hostile.call('Hostile.Log', { garbage: 'number' })).resolves.toBe('logged');
    await expect.poll(async () => (await sup.logs('hostile')).map((l) => l.code)).toContain('PLUGD_E_PROTOCOL');
    await greeter.call('Greeter.Print', { lines: ['after the garbage'] });
    await expect.poll(async () => (await sup.logs('greeter')).map((l) => l.msg)).toContain('after the garbage');
  });
});

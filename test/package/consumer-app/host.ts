// A host that uses the whole API the README documents, run from the packed package.
// Usage: node out/host.js <store root> <greeter bundle> <greeter 2.0.0 bundle> <volumes bundle> <result.json>
import { writeFile } from 'node:fs/promises';
import {
  createSupervisor,
  ErrorCodes,
  isPlugdError,
  PlugdError,
  type ErrorCode,
  type LogLine,
  type PluginClient,
  type PluginInfo,
  type StateEvent,
  type Supervisor,
} from 'plugd';

const [root, greeterDir, greeter2Dir, volumesDir, resultFile] = process.argv.slice(2);
if (!root || !greeterDir || !greeter2Dir || !volumesDir || !resultFile)
  throw new Error('usage: host <root> <greeter> <greeter2> <volumes> <result>');

/** The code a rejected operation carried, checked to be a PlugdError. */
async function codeOf(operation: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await operation;
    return 'resolved';
  } catch (e) {
    if (!(e instanceof PlugdError)) throw e;
    return e.code;
  }
}

const sup: Supervisor = await createSupervisor({ root, warmWorkers: 1 });
const events: StateEvent[] = [];
sup.on('state', (e) => events.push(e));
await sup.warmed();

const { id, name } = await sup.install(greeterDir, { grantPermissions: true });
const handled: string[] = [];
const unhandle = sup.handle('Greeter', (plugin: string, client: PluginClient) => handled.push(`${plugin}/${client.capability}`));
await sup.enable(name);
const greeter = await sup.get(name, 'Greeter');
const first = await greeter.call<{ greeting: string; edition: string }>('Greeter.Hello', { name: 'Ada' });
const found = sup.find('Greeter').map((client) => client.name);
const info: PluginInfo = sup.inspect(name);
const listed = sup.list({ capability: 'Greeter', enabled: true }).map((p) => p.name);

const setWhileRunning = await codeOf(sup.set(name, ['GREETING=hi']));
const held = await sup.get(name, 'Greeter', { acquire: true });
const disableWhileHeld = await codeOf(sup.disable(name));
held.release();
await sup.disable(name, { force: false });
await sup.set(name, ['GREETING=hi']);
await sup.enable(name);
const second = await greeter.call<{ greeting: string }>('Greeter.Hello', { name: 'Ada' });
const logs: LogLine[] = await sup.logs(name, { tail: 50 });

await sup.disable(name);
const upgraded = await sup.upgrade(name, greeter2Dir);
await sup.enable(name);
const third = await greeter.call<{ greeting: string; edition: string }>('Greeter.Hello', { name: 'Ada' });
unhandle();

await sup.install(volumesDir);
await sup.enable('volumes');
const driver = await sup.get('volumes', 'VolumeDriver');
await driver.call('VolumeDriver.Create', { Name: 'v1' });
const volumeList = await driver.call<{ Volumes: { Name: string }[] }>('VolumeDriver.List', {});

const notFound = await codeOf(sup.get('nobody', 'Greeter'));
let guarded = false;
try {
  await sup.get('nobody', 'Greeter');
} catch (e) {
  guarded = isPlugdError(e, 'PLUGD_E_NOT_FOUND') && e.code in ErrorCodes;
}

await sup.disable(name);
await sup.remove(name, { force: false });
await sup.remove('volumes', { force: true });
const remaining = sup.list().map((p: PluginInfo) => p.name);
await sup.close();
const afterClose = await codeOf(sup.enable('volumes'));

await writeFile(
  resultFile,
  JSON.stringify({
    id,
    name,
    root: sup.root,
    first,
    found,
    listed,
    handled,
    info: { state: info.state, enabled: info.enabled, kind: info.kind, implements: info.implements, lastError: info.lastError },
    setWhileRunning,
    disableWhileHeld,
    second,
    loggedGreeting: logs.some((line) => line.msg === 'greeting'),
    upgraded,
    third,
    volumeList,
    notFound,
    guarded,
    remaining,
    afterClose,
    transitions: events.filter((e) => e.name === name).map((e) => `${e.from ?? 'null'}>${e.to}`),
  }),
);

// Compile-time checks that the published types are precise: any `any` or loose type fails tsc.
// Never run: the host runs; this file only has to type-check.
import {
  definePlugin,
  type PlugdError,
  type ErrorCode,
  type PluginDefinition,
  type PluginInfo,
  type PluginStateName,
  type StateEvent,
  type Supervisor,
} from 'plugd';
import { servePlugin, type PluginServer, type ServePluginOptions } from 'plugd/sdk';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

export type Checks = [
  Expect<Equal<IsAny<typeof servePlugin>, false>>,
  Expect<Equal<Parameters<typeof servePlugin>[0], ServePluginOptions>>,
  Expect<Equal<Awaited<ReturnType<typeof servePlugin>>, PluginServer>>,
  Expect<Equal<IsAny<typeof definePlugin>, false>>,
  Expect<Equal<ReturnType<typeof definePlugin>, PluginDefinition>>,
  Expect<Equal<IsAny<PlugdError>, false>>,
  Expect<Equal<PlugdError['code'], ErrorCode>>,
  Expect<Equal<string extends ErrorCode ? true : false, false>>,
  Expect<Equal<StateEvent['to'], PluginStateName>>,
  Expect<Equal<StateEvent['from'], PluginStateName | null>>,
  Expect<Equal<IsAny<StateEvent['error']>, false>>,
  Expect<Equal<ReturnType<Supervisor['inspect']>, PluginInfo>>,
  Expect<Equal<PluginInfo['state'], PluginStateName>>,
  Expect<Equal<IsAny<PluginInfo['lastError']>, false>>,
  Expect<Equal<PluginInfo['kind'], 'worker' | 'process' | 'container' | 'external'>>,
];

export function misuses(sup: Supervisor): void {
  // @ts-expect-error: 'paused' is no state of the lifecycle
  sup.on('state', (e) => e.to === 'paused');
  // @ts-expect-error: no such code
  const code: ErrorCode = 'PLUGD_E_NOPE';
  // @ts-expect-error: servePlugin needs the capabilities it implements
  void servePlugin({ handlers: {} });
  // @ts-expect-error: Docker's answer is { Implements }
  definePlugin({ activate: () => ({ implements: ['Greeter'] }) });
  // @ts-expect-error: inspect() is synchronous
  void sup.inspect('greeter').then;
  void code;
}

// plugd's public surface: re-exports only.
export { createSupervisor, Supervisor } from './supervisor.js';
export type { StateEvent, ActivationHandler, Capability, InstallOptions, RestoreReport } from './supervisor.js';
export type { InstallProgress } from './store/registry/install-progress.js';
export type { PluginSource } from './store/registry/plugin-source.js';
export type { SupervisorOptions } from './options.js';
export { PluginClient } from './client.js';
export type { CallOptions } from './client.js';
export type { PluginInfo } from './runtime/plugin-info.js';
export type { LogLine } from './logs/pump-protocol.js';
export { PlugdError, ErrorCodes, isPlugdError } from './errors.js';
export type { ErrorCode, ErrorInfo } from './errors.js';
export { parseManifest } from './store/manifest.js';
export type { Manifest, EnvVar, RestartSpec, RestartPolicyName } from './store/manifest.js';
export type { StoreProblem } from './store/store.js';
export type { DiscoveryProblem } from './docker/discovery.js';
export { definePlugin } from './sdk/define-plugin.js';
export type { PluginDefinition, PluginContext, PluginMethod, ActivateAnswer } from './sdk/define-plugin.js';
export type { PluginStateName, ExitReason } from '../machines/types.js';

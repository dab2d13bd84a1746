// plugd/sdk: what plugin authors import.
export { servePlugin } from './serve-plugin.mjs';
export type { ServePluginOptions, PluginServer, PluginHandler } from './serve-plugin.mjs';
export { definePlugin } from './define-plugin.js';
export type { PluginDefinition, PluginContext, PluginMethod, ActivateAnswer } from './define-plugin.js';

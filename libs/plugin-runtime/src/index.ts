export { loadPluginCatalog, buildPluginCatalog } from './plugin-catalog';
export type { PluginCatalog, PluginCatalogOptions } from './plugin-catalog';
export type {
  PluginDescriptor,
  ToolDescriptor,
  PromptDescriptor,
  ConfigValidation,
  ConfigIssue,
  JsonSchema,
} from './plugin-descriptor';
export { defaultPluginsDir } from './plugin-discovery';
export { PluginLoadError } from './plugin-load.errors';
export {
  describePlugin,
  namespacedName,
  TOOL_NAME_PATTERN,
  PLUGIN_NAME_PATTERN,
  MAX_PLUGIN_NAME_LENGTH,
  NAMESPACE_SEPARATOR,
  MAX_NAMESPACED_NAME_LENGTH,
} from './plugin-validation';
export {
  INSTALLATION_NAME_PATTERN,
  MAX_INSTALLATION_NAME_LENGTH,
  installationNameProblem,
  isInstallationName,
  splitNamespacedTool,
  toolAllowed,
} from './installation-names';
export { withListedTools, MAX_LISTED_TOOLS, MAX_LISTED_DESCRIPTION_CHARS } from './listed-tools';
export type { ListedTools } from './listed-tools';
export { startPlugins, PLUGIN_SETUP_TIMEOUT_MS, PLUGIN_CLOSE_TIMEOUT_MS } from './plugin-lifecycle';
export type { PluginPlatform, RunningPlugins } from './plugin-lifecycle';

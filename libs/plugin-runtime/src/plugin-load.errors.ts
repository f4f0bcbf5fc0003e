/** A plugin that cannot be loaded; start-up stops with this message, which names the plugin. */
export class PluginLoadError extends Error {
  constructor(
    readonly plugin: string,
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Plugin "${plugin}" (${source}) cannot be loaded:\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'PluginLoadError';
  }
}

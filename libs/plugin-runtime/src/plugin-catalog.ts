import type { PluginDescriptor } from './plugin-descriptor';
import { discoverPluginSources, defaultPluginsDir, type PluginSource } from './plugin-discovery';
import { PluginLoadError } from './plugin-load.errors';
import { describePlugin, pluginFromModule } from './plugin-validation';

/** Every plugin this platform can run, loaded and validated once at start-up. */
export interface PluginCatalog {
  list(): PluginDescriptor[];
  get(name: string): PluginDescriptor | undefined;
}

export interface PluginCatalogOptions {
  /** Folder of plugin folders; defaults to the workspace's plugins/ (dist/plugins when built). */
  pluginsDir?: string;
  /** npm package names from PLUGINS. */
  packages?: readonly string[];
}

class StaticPluginCatalog implements PluginCatalog {
  private readonly byName: ReadonlyMap<string, PluginDescriptor>;

  constructor(descriptors: PluginDescriptor[]) {
    this.byName = new Map(descriptors.map((d) => [d.name, d]));
  }

  list(): PluginDescriptor[] {
    return [...this.byName.values()];
  }

  get(name: string): PluginDescriptor | undefined {
    return this.byName.get(name);
  }
}

/** Builds a catalog from already-imported plugin definitions (the loader's last step; also for tests). */
export function buildPluginCatalog(entries: { plugin: unknown; source: string }[]): PluginCatalog {
  const descriptors: PluginDescriptor[] = [];
  const seen = new Map<string, string>();
  for (const { plugin, source } of entries) {
    const descriptor = describePlugin(plugin, source);
    const previous = seen.get(descriptor.name);
    if (previous) throw new PluginLoadError(descriptor.name, source, [`the name is already taken by ${previous}`]);
    seen.set(descriptor.name, source);
    descriptors.push(descriptor);
  }
  return new StaticPluginCatalog(descriptors);
}

function importSource(source: PluginSource): unknown {
  try {
    // Synchronous require: plugins load once at start-up, and the build emits CommonJS.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return pluginFromModule(require(source.specifier));
  } catch (error) {
    if (error instanceof PluginLoadError) throw error;
    throw new PluginLoadError(source.label, source.label, [`loading failed: ${(error as Error).message}`]);
  }
}

/** Discovers, imports and validates every plugin; a broken one stops start-up with a PluginLoadError naming it. */
export async function loadPluginCatalog(options: PluginCatalogOptions = {}): Promise<PluginCatalog> {
  const sources = discoverPluginSources(options.pluginsDir ?? defaultPluginsDir(), options.packages ?? []);
  return buildPluginCatalog(sources.map((source) => ({ plugin: importSource(source), source: source.label })));
}

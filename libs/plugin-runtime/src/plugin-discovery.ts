import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Where a plugin module comes from: a folder of the plugins directory or an npm package. */
export interface PluginSource {
  /** What start-up messages call it: the folder path or the package name. */
  label: string;
  /** What `require` is given. */
  specifier: string;
}

/**
 * Built code runs from dist/, where every plugin folder has an index.js; tests and ts runners load
 * the index.ts of the source tree. The compiled file wins when both exist.
 */
const ENTRY_FILES = ['index.js', 'index.ts'];
/** Folders of the plugins directory starting with this are never loaded (plugins/_template). */
export const SKIPPED_FOLDER_PREFIX = '_';

/** The plugins folder next to this library, in the source tree or in dist/ alike. */
export function defaultPluginsDir(): string {
  return path.resolve(__dirname, '../../../plugins');
}

export function discoverPluginSources(pluginsDir: string | undefined, packages: readonly string[]): PluginSource[] {
  const sources: PluginSource[] = [];
  if (pluginsDir && existsSync(pluginsDir)) {
    const folders = readdirSync(pluginsDir, { withFileTypes: true })
      // `_template` and other `_`-folders are examples to copy, not plugins to load.
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !entry.name.startsWith(SKIPPED_FOLDER_PREFIX))
      .map((entry) => entry.name)
      .sort();
    for (const folder of folders) {
      const entry = ENTRY_FILES.map((file) => path.join(pluginsDir, folder, file)).find((file) => existsSync(file));
      if (entry) sources.push({ label: path.join(pluginsDir, folder), specifier: entry });
    }
  }
  for (const name of packages) sources.push({ label: `npm package ${name}`, specifier: name });
  return sources;
}

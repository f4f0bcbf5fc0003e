import { useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../api/client';
import type { ApiKey, Page } from '../api/types';

/** Enough to name the keys on a page; a key beyond it is shown by its id. */
const KEY_NAMES_LIMIT = 200;

/** Names of a tenant's API keys by id, for pages that get only key ids (sessions, usage). */
export function useKeyNames(api: ApiClient, tenantId: string): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    api.get<Page<ApiKey>>(`${apiPath('tenants', tenantId, 'api-keys')}?limit=${KEY_NAMES_LIMIT}`).then(
      (page) => setNames(new Map(page.items.map((key) => [key.id, key.name]))),
      // Without names the ids still identify the keys.
      () => undefined,
    );
  }, [api, tenantId]);
  return names;
}

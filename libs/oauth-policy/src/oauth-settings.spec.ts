import { DEFAULT_OAUTH_SETTINGS, oauthSettingsSchema, readOAuthSettings } from './oauth-settings';

describe('tenant OAuth settings', () => {
  it('reads an empty or missing object as the defaults', () => {
    expect(readOAuthSettings({})).toEqual(DEFAULT_OAUTH_SETTINGS);
    expect(readOAuthSettings(null)).toEqual({ dynamicRegistration: true, accessTokenTtlSeconds: 600, metadataDocumentHosts: [] });
  });

  it('keeps valid stored fields and replaces invalid ones by their default', () => {
    expect(readOAuthSettings({ dynamicRegistration: false, accessTokenTtlSeconds: 5, metadataDocumentHosts: ['claude.ai'] })).toEqual({
      dynamicRegistration: false,
      accessTokenTtlSeconds: 600,
      metadataDocumentHosts: ['claude.ai'],
    });
  });

  it('refuses wildcards, IP addresses, URLs and duplicates as metadata document hosts', () => {
    for (const host of ['*.example.com', '10.0.0.1', 'https://example.com', 'Example.com', 'example.com:443']) {
      expect(oauthSettingsSchema.shape.metadataDocumentHosts.safeParse([host]).success).toBe(false);
    }
    expect(oauthSettingsSchema.shape.metadataDocumentHosts.safeParse(['a.example', 'a.example']).success).toBe(false);
    expect(oauthSettingsSchema.shape.metadataDocumentHosts.safeParse(['chatgpt.com', 'claude.ai']).success).toBe(true);
  });
});

import { childEnvironment } from './child-env';
import { FORBIDDEN_ENV_CLASSES, envNameProblem } from './env-policy';
import type { ServerTemplateSpec } from './server-template';

/**
 * Names an attacker would ask a platform admin to declare (or write into a template row around
 * the API), grouped by what they do to the hosted server, keyed by the class that refuses them.
 */
const ATTACKS: Record<string, string[]> = {
  'dynamic loader and C library': ['LD_PRELOAD', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'GCONV_PATH', 'GLIBC_TUNABLES', 'MALLOC_CONF', 'ASAN_OPTIONS', 'UBSAN_OPTIONS'],
  'TLS and proxies': [
    'OPENSSL_CONF',
    'OPENSSL_ENGINES',
    'OPENSSL_MODULES',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'SSLKEYLOGFILE',
    'CURL_CA_BUNDLE',
    'REQUESTS_CA_BUNDLE',
    'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH',
    'HTTPS_PROXY',
    'HTTP_PROXY',
    'ALL_PROXY',
    'NO_PROXY',
    'FTP_PROXY',
    'SOCKS5_SERVER',
    'GLOBAL_AGENT_HTTP_PROXY',
  ],
  'name resolution': ['HOSTALIASES', 'RES_OPTIONS', 'LOCALDOMAIN', 'RESOLV_HOST_CONF'],
  'interpreter start-up': [
    'NODE_OPTIONS',
    'NODE_EXTRA_CA_CERTS',
    'PYTHONPATH',
    'PYTHONSTARTUP',
    'PYTHONBREAKPOINT',
    'PYTEST_PLUGINS',
    'PERL5OPT',
    'PERL5DB',
    'RUBYOPT',
    'RUBYLIB',
    'IRBRC',
    'PHPRC',
    'PHP_INI_SCAN_DIR',
    'LUA_INIT',
    'TCLLIBPATH',
    'R_PROFILE_USER',
    'JAVA_TOOL_OPTIONS',
    '_JAVA_OPTIONS',
    'JDK_JAVA_OPTIONS',
    'JAVA_HOME',
    'CLASSPATH',
    'DOTNET_STARTUP_HOOKS',
    'CORECLR_PROFILER_PATH',
    'COMPLUS_ENABLEDIAGNOSTICS',
    'ASPNETCORE_HOSTINGSTARTUPASSEMBLIES',
  ],
  'shell start-up': ['ENV', 'BASH_ENV', 'BASH_XTRACEFD', 'SHELLOPTS', 'PS4', 'PROMPT_COMMAND', 'IFS', 'CDPATH', 'FPATH', 'ZDOTDIR', 'INPUTRC'],
  'commands run by name': ['EDITOR', 'VISUAL', 'PAGER', 'MANPAGER', 'BROWSER', 'LESSOPEN', 'LESSCLOSE', 'SSH_ASKPASS', 'SUDO_ASKPASS', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'HGRCPATH', 'SVN_SSH'],
  'package managers and registries': [
    'NPM_CONFIG_REGISTRY',
    'NPM_CONFIG_SCRIPT_SHELL',
    'YARN_NPM_REGISTRY_SERVER',
    'PNPM_HOME',
    'COREPACK_NPM_REGISTRY',
    'BUN_CONFIG_REGISTRY',
    'DENO_DIR',
    'PIP_INDEX_URL',
    'UV_INDEX_URL',
    'PIPX_HOME',
    'POETRY_REPOSITORIES_X_URL',
    'CONDA_PREFIX',
    'VIRTUAL_ENV',
    'GEM_HOME',
    'GEM_PATH',
    'BUNDLE_GEMFILE',
    'CARGO_HOME',
    'RUSTUP_TOOLCHAIN',
    'GOFLAGS',
    'GOPROXY',
    'GOPATH',
    'GOTOOLCHAIN',
    'GOAUTH',
    'MAVEN_OPTS',
    'GRADLE_USER_HOME',
    'NUGET_PACKAGES',
    'COMPOSER_HOME',
  ],
  'build tools': ['CC', 'CXX', 'CFLAGS', 'LDFLAGS', 'LIBRARY_PATH', 'CPATH', 'MAKEFLAGS', 'PKG_CONFIG_PATH', 'CGO_LDFLAGS', 'RUSTC_WRAPPER', 'RUSTFLAGS', 'CMAKE_C_COMPILER'],
  'locale, time zone and message catalogs': ['LANG', 'LANGUAGE', 'LC_ALL', 'LC_MESSAGES', 'LOCPATH', 'NLSPATH', 'TEXTDOMAINDIR', 'TZ', 'TZDIR', 'TERMINFO', 'TERMCAP'],
  'set by the platform': ['PATH', 'HOME', 'TMPDIR', 'SHELL', 'USER', 'PWD', 'XDG_CONFIG_HOME', 'XDG_DATA_DIRS'],
};

/** What real MCP servers read: must stay declarable. */
const ORDINARY = [
  'GITHUB_TOKEN',
  'GITHUB_PERSONAL_ACCESS_TOKEN',
  'GITHUB_ORG',
  'GITLAB_URL',
  'OK_VAR',
  'API_TOKEN',
  'STATE_FILE',
  'MEMORY_FILE_PATH',
  'REGION',
  'SLACK_BOT_TOKEN',
  'BRAVE_API_KEY',
  'GOOGLE_API_KEY',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'OPENAI_API_KEY',
  'POSTGRES_CONNECTION_STRING',
  'NOTION_API_KEY',
];

describe('hosted server environment policy', () => {
  describe.each(Object.entries(ATTACKS))('refuses the class %s', (title, names) => {
    it.each(names)('refuses %s, naming the class', (name) => {
      expect(envNameProblem(name)).toEqual(expect.stringContaining(`(${title})`));
    });
  });

  it('tests every class it declares', () => {
    expect(FORBIDDEN_ENV_CLASSES.map((c) => c.title).sort()).toEqual(Object.keys(ATTACKS).sort());
  });

  it('gives every class a reason', () => {
    for (const c of FORBIDDEN_ENV_CLASSES) expect(c.reason.length).toBeGreaterThan(20);
  });

  it.each(['https_proxy', 'http_proxy', 'no_proxy', 'Https_Proxy', 'npm_config_registry', 'path', 'ld_preload'])(
    'refuses %s in any case (lower-case names are not declarable at all)',
    (name) => expect(envNameProblem(name)).toEqual(expect.any(String)),
  );

  it.each(ORDINARY)('accepts %s', (name) => {
    expect(envNameProblem(name)).toBeUndefined();
  });

  it('keeps the refusal wording the admin API shows', () => {
    expect(envNameProblem('PATH')).toMatch(/^PATH is reserved/);
    expect(envNameProblem('NODE_OPTIONS')).toMatch(/^NODE_\* is reserved/);
    expect(envNameProblem('PYTHONPATH')).toMatch(/^PYTHON\* is reserved/);
    expect(envNameProblem('BASH_ENV')).toMatch(/^BASH_ENV is reserved/);
  });

  it('drops every refused name from a child environment, even from a template row written around the API', () => {
    const attacks = Object.values(ATTACKS).flat().filter((name) => !['PATH', 'HOME', 'TMPDIR', 'LANG'].includes(name));
    const spec: ServerTemplateSpec = {
      name: 'evil',
      description: '',
      command: '/usr/bin/node',
      args: [],
      env: [{ name: 'GITHUB_TOKEN' }, ...attacks.map((name) => ({ name }))],
      defaultMode: 'isolated',
    };
    const config = Object.fromEntries([['GITHUB_TOKEN', 't'], ...attacks.map((name) => [name, '/tmp/evil'])]);
    expect(childEnvironment(spec, config, '/data/t1/evil')).toEqual({
      HOME: '/data/t1/evil',
      TMPDIR: '/data/t1/evil',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      GITHUB_TOKEN: 't',
    });
  });
});

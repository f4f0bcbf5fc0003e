/**
 * Which environment variable names a server template may declare (and so let tenants set). A
 * hosted server runs on the gateway node, so a variable that changes WHAT runs (loader,
 * interpreter, shell start-up code, package index, compiler), WHERE its traffic goes or WHOM it
 * trusts, or WHICH files the C library parses would let a tenant run code of its choice there or
 * read its traffic. Those are refused when a platform admin declares them, and again when a
 * child's environment is built.
 *
 * A deny list by class, broad on purpose: where a runtime or tool owns a namespace the whole
 * prefix is refused, not the handful of names known to be dangerous today. A name nobody listed
 * is allowed, because the servers' own variable names (GITHUB_PERSONAL_ACCESS_TOKEN, ...) are
 * not ours to choose; see docs/decisions.md ("Hosted-server environment").
 */

/** Upper-case letters, digits and underscores, as POSIX suggests for portable names. */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** One family of refused names and why. Matched case-insensitively. */
export interface ForbiddenEnvClass {
  /** Shown in refusals: `X is reserved (title): reason`. */
  title: string;
  reason: string;
  /** Exact names. */
  names?: readonly string[];
  /** Name prefixes (`LD_` refuses LD_PRELOAD, LD_AUDIT, ...). */
  prefixes?: readonly string[];
  /** Whole-name patterns, for families that share a shape rather than a prefix. */
  patterns?: readonly RegExp[];
}

export const FORBIDDEN_ENV_CLASSES: readonly ForbiddenEnvClass[] = [
  {
    title: 'dynamic loader and C library',
    reason: 'the loader and libc load code or instrumentation into every process from these (LD_PRELOAD, LD_AUDIT, GCONV_PATH, sanitizer options run a symbolizer)',
    names: ['GCONV_PATH', 'GETCONF_DIR', 'LIBC_FATAL_STDERR_', 'GMON_OUT_PREFIX'],
    prefixes: ['LD_', 'DYLD_', 'GLIBC_', 'MALLOC_', 'SEGFAULT_', 'MEMUSAGE_'],
    patterns: [/^[A-Z]*SAN_OPTIONS$/],
  },
  {
    title: 'TLS and proxies',
    reason:
      'decide where the server\'s traffic (with the tenant\'s credentials) goes and whom it trusts: a proxy routes around the platform\'s egress controls, a CA file or key log file hands TLS to someone else, OPENSSL_CONF loads engines and providers (code)',
    names: ['CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'HTTPLIB2_CA_CERTS', 'WEBSOCKET_CLIENT_CA_BUNDLE', 'WGETRC'],
    prefixes: ['OPENSSL_', 'SSL', 'GNUTLS_', 'NSS_', 'CURL', 'GRPC_', 'GLOBAL_AGENT_', 'SOCKS'],
    // HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, FTP_PROXY, ...; lower-case spellings fail ENV_NAME_PATTERN.
    patterns: [/_PROXY$/],
  },
  {
    title: 'name resolution',
    reason: 'the resolver (glibc, c-ares) reads host aliases, search domains and options from these, so names could resolve to hosts of the setter\'s choice',
    names: ['HOSTALIASES', 'RES_OPTIONS', 'LOCALDOMAIN'],
    prefixes: ['RESOLV_', 'NIS_'],
  },
  {
    title: 'interpreter start-up',
    reason: 'language runtimes load or run code named here at start (NODE_OPTIONS --require, PYTHONSTARTUP, PERL5OPT, RUBYOPT, PHPRC, LUA_INIT, JVM agents, .NET startup hooks and profilers)',
    names: ['IRBRC', 'TCLLIBPATH', 'CLASSPATH', 'ANT_OPTS', 'SBT_OPTS', 'IPYTHONDIR'],
    prefixes: [
      'NODE_',
      'PYTHON',
      'PYTEST_',
      'PERL',
      'RUBY',
      'PHP',
      'LUA_',
      'R_PROFILE',
      'R_ENVIRON',
      'R_LIBS',
      'JAVA',
      '_JAVA_',
      'JDK_',
      'JVM_',
      'DOTNET_',
      'CORECLR_',
      'COMPLUS_',
      'ASPNETCORE_',
      'MSBUILD',
    ],
  },
  {
    title: 'shell start-up',
    reason: 'shells execute start-up files and exported functions from these, or change how every script they run splits words and finds commands',
    names: ['ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS', 'PS1', 'PS2', 'PS3', 'PS4', 'PROMPT_COMMAND', 'IFS', 'CDPATH', 'GLOBIGNORE', 'EXECIGNORE', 'FPATH', 'ZDOTDIR', 'INPUTRC', 'HISTFILE'],
    prefixes: ['BASH_', 'ZSH_', 'KSH_'],
  },
  {
    title: 'commands run by name',
    reason: 'programs run the command these name (editors, pagers, browsers, password prompts, LESSOPEN filters, version-control transports and hooks)',
    names: ['EDITOR', 'VISUAL', 'PAGER', 'MANPAGER', 'MANOPT', 'BROWSER', 'TERMINAL', 'FCEDIT', 'SUDO_EDITOR', 'SUDO_ASKPASS', 'DISPLAY', 'HGRCPATH', 'HGEDITOR', 'CVS_RSH', 'RSYNC_RSH', 'RSYNC_CONNECT_PROG'],
    prefixes: ['LESS', 'SSH_', 'GIT_', 'SVN_', 'SYSTEMD_', 'DBUS_', 'DEBUGINFOD_'],
  },
  {
    title: 'package managers and registries',
    reason: 'decide which packages npx, uvx, pip, gem, cargo or go fetch and run, from which index, with which install scripts',
    names: ['VIRTUAL_ENV', 'GCCGO', 'M2_HOME'],
    prefixes: [
      'NPM_',
      'YARN_',
      'PNPM_',
      'COREPACK_',
      'BUN_',
      'DENO_',
      'PIP_',
      'PIPX_',
      'UV_',
      'POETRY_',
      'PDM_',
      'HATCH_',
      'CONDA',
      'MAMBA_',
      'GEM_',
      'BUNDLE_',
      'BUNDLER_',
      'CARGO',
      'RUSTUP_',
      'MAVEN_',
      'GRADLE_',
      'NUGET_',
      'COMPOSER',
    ],
    // Go's variables are GO plus letters and digits, no underscore (GOFLAGS, GOPROXY, GOTOOLCHAIN,
    // GO111MODULE): GOOGLE_API_KEY stays declarable.
    patterns: [/^GO[A-Z0-9]*$/],
  },
  {
    title: 'build tools',
    reason: 'native module builds (node-gyp, pip, cgo, cargo) run the compilers and flags named here',
    names: [
      'CC',
      'CXX',
      'CPP',
      'LD',
      'AR',
      'AS',
      'NM',
      'RANLIB',
      'STRIP',
      'CFLAGS',
      'CXXFLAGS',
      'CPPFLAGS',
      'LDFLAGS',
      'LDLIBS',
      'LIBRARY_PATH',
      'CPATH',
      'C_INCLUDE_PATH',
      'CPLUS_INCLUDE_PATH',
      'MAKE',
      'MAKEFLAGS',
      'MFLAGS',
      'GNUMAKEFLAGS',
      'MAKEFILES',
      'RUSTFLAGS',
    ],
    prefixes: ['PKG_CONFIG', 'CMAKE_', 'CCACHE_', 'CGO_', 'GYP_', 'RUSTC', 'RUSTDOC'],
  },
  {
    title: 'locale, time zone and message catalogs',
    reason: 'the C library, gettext and ncurses parse files these point at (locale archives, message catalogs with format strings, zone files, terminfo); the platform sets LANG',
    names: ['LANG', 'LANGUAGE', 'LOCPATH', 'NLSPATH', 'TEXTDOMAIN', 'TEXTDOMAINDIR', 'TZ', 'TZDIR', 'TERMINFO', 'TERMINFO_DIRS', 'TERMCAP'],
    prefixes: ['LC_'],
  },
  {
    title: 'set by the platform',
    reason: 'the platform fixes the executable search path, the installation\'s private directories and the process identity; XDG directories hold tools\' config files',
    names: ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'SHELL', 'USER', 'LOGNAME', 'PWD', 'OLDPWD'],
    prefixes: ['XDG_'],
  },
];

const CLASS_BY_NAME = new Map(FORBIDDEN_ENV_CLASSES.flatMap((c) => (c.names ?? []).map((name) => [name, c] as const)));

/** Why this name cannot be a declared variable, or undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name)) return `must match ${ENV_NAME_PATTERN} (upper case, digits, underscore)`;
  const upper = name.toUpperCase();
  const exact = CLASS_BY_NAME.get(upper);
  if (exact) return `${name} is reserved (${exact.title}): ${exact.reason}`;
  for (const c of FORBIDDEN_ENV_CLASSES) {
    const prefix = c.prefixes?.find((p) => upper.startsWith(p));
    if (prefix) return `${prefix}* is reserved (${c.title}): ${c.reason}`;
  }
  for (const c of FORBIDDEN_ENV_CLASSES) {
    if (c.patterns?.some((pattern) => pattern.test(upper))) return `${name} is reserved (${c.title}): ${c.reason}`;
  }
  return undefined;
}

/**
 * Which environment variable names a server template may let tenants set. A hosted server runs
 * on the gateway node, so a variable that changes WHAT runs (loader, interpreter, shell start-up
 * code, package index) would let a tenant run code of its choice there. Those are refused when a
 * platform admin declares them, and again when a child's environment is built.
 */

/** Upper-case letters, digits and underscores, as POSIX suggests for portable names. */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** Exact names, compared case-insensitively, and why each is refused. */
export const FORBIDDEN_ENV_VARS: Readonly<Record<string, string>> = {
  PATH: 'chooses which executable runs; the platform sets a fixed PATH',
  HOME: 'set by the platform to the installation\'s private directory',
  TMPDIR: 'set by the platform',
  TMP: 'set by the platform',
  TEMP: 'set by the platform',
  SHELL: 'selects the shell child processes run',
  USER: 'process identity is the platform\'s',
  LOGNAME: 'process identity is the platform\'s',
  IFS: 'changes how shells split words',
  ENV: 'shell start-up file (executes code)',
  BASH_ENV: 'bash start-up file (executes code)',
  SHELLOPTS: 'changes shell behaviour of child scripts',
  BASHOPTS: 'changes shell behaviour of child scripts',
  PS4: 'evaluated by shells with tracing on',
  PROMPT_COMMAND: 'executed by interactive bash',
  PERL5LIB: 'loads Perl modules of the caller\'s choice',
  PERL5OPT: 'Perl command-line options (can load modules)',
  PERLLIB: 'loads Perl modules of the caller\'s choice',
  RUBYOPT: 'Ruby command-line options (can require code)',
  RUBYLIB: 'loads Ruby code of the caller\'s choice',
  JAVA_TOOL_OPTIONS: 'JVM options (can load agents)',
  _JAVA_OPTIONS: 'JVM options (can load agents)',
  JDK_JAVA_OPTIONS: 'JVM options (can load agents)',
  CLASSPATH: 'loads Java classes of the caller\'s choice',
  GCONV_PATH: 'glibc loads conversion modules from it',
  MALLOC_CHECK_: 'glibc debugging behaviour',
};

/** Name prefixes, compared case-insensitively, and why each family is refused. */
export const FORBIDDEN_ENV_PREFIXES: readonly { prefix: string; reason: string }[] = [
  { prefix: 'LD_', reason: 'dynamic loader control (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT load code)' },
  { prefix: 'DYLD_', reason: 'macOS dynamic loader control (loads code)' },
  { prefix: 'NODE_', reason: 'Node.js runtime control (NODE_OPTIONS --require, NODE_PATH, inspector)' },
  { prefix: 'PYTHON', reason: 'Python runtime control (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME load code)' },
  { prefix: 'BASH_FUNC_', reason: 'exported bash functions (executes code)' },
  { prefix: 'NPM_CONFIG_', reason: 'npm/npx settings (registry, script shell): what gets installed and run' },
  { prefix: 'UV_', reason: 'uv/uvx settings (package index): what gets installed and run' },
  { prefix: 'PIP_', reason: 'pip settings (package index): what gets installed and run' },
  { prefix: 'GIT_', reason: 'git settings (GIT_SSH_COMMAND, GIT_EXEC_PATH run commands)' },
  { prefix: 'GLIBC_', reason: 'glibc tunables' },
];

/** Why this name cannot be a declared variable, or undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name)) return `must match ${ENV_NAME_PATTERN} (upper case, digits, underscore)`;
  const upper = name.toUpperCase();
  const exact = FORBIDDEN_ENV_VARS[upper];
  if (exact) return `${name} is reserved: ${exact}`;
  const family = FORBIDDEN_ENV_PREFIXES.find(({ prefix }) => upper.startsWith(prefix));
  if (family) return `${family.prefix}* is reserved: ${family.reason}`;
  return undefined;
}

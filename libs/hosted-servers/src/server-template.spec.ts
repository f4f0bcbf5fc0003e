import { childEnvironment } from './child-env';
import { envNameProblem } from './env-policy';
import { describeServerTemplate, type ServerTemplateSpec } from './server-template';

const spec: ServerTemplateSpec = {
  name: 'github',
  description: 'GitHub',
  command: '/usr/bin/node',
  args: ['server.js'],
  env: [
    { name: 'GITHUB_TOKEN', secret: true, required: true },
    { name: 'GITHUB_ORG' },
    { name: 'STATE_FILE', value: '{home}/state.json' },
  ],
  defaultMode: 'isolated',
};

describe('server templates', () => {
  it.each(['PATH', 'path', 'NODE_OPTIONS', 'LD_PRELOAD', 'DYLD_INSERT_LIBRARIES', 'PYTHONPATH', 'BASH_ENV', 'HOME', 'BASH_FUNC_x%%', 'npm_config_registry'])(
    'refuses %s as a declared variable',
    (name) => expect(envNameProblem(name)).toEqual(expect.any(String)),
  );

  it('accepts ordinary names', () => {
    expect(envNameProblem('GITHUB_TOKEN')).toBeUndefined();
  });

  it('derives a config schema: secret fields write-only, fixed values not settable, undeclared names refused with their path', () => {
    const descriptor = describeServerTemplate(spec);
    expect(descriptor.secretFields).toEqual(['GITHUB_TOKEN']);
    expect(descriptor.configSchema).toMatchObject({ properties: { GITHUB_TOKEN: { writeOnly: true }, mode: { enum: ['isolated', 'shared'] } }, required: ['GITHUB_TOKEN'] });
    const refused = descriptor.validateConfig({ GITHUB_TOKEN: 't', PATH: '/tmp/evil', STATE_FILE: '/etc/passwd' });
    expect(!refused.ok && refused.issues.map((i) => i.path).sort()).toEqual(['PATH', 'STATE_FILE']);
  });

  it('builds the child environment from the base and declared values only', () => {
    const env = childEnvironment(spec, { GITHUB_TOKEN: 't', GITHUB_ORG: 'o', mode: 'shared', NODE_OPTIONS: '--require evil' }, '/data/t1/github');
    expect(env).toEqual({
      HOME: '/data/t1/github',
      TMPDIR: '/data/t1/github',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      GITHUB_TOKEN: 't',
      GITHUB_ORG: 'o',
      STATE_FILE: '/data/t1/github/state.json',
    });
  });
});

import echo from './index';

describe('echo plugin', () => {
  it('returns the text it is given', async () => {
    const tool = echo.tools.find((t) => t.name === 'echo')!;
    const args = tool.input.parse({ text: 'hello' });
    expect(await tool.handler(args, {} as never)).toBe('hello');
  });

  it('refuses input without text', () => {
    const tool = echo.tools.find((t) => t.name === 'echo')!;
    expect(tool.input.safeParse({}).success).toBe(false);
  });
});

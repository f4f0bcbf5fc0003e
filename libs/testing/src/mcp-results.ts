/** The text of a tool result's first content block (what most tests assert on); '' when it has none. */
export function firstText(result: unknown): string {
  const content = (result as { content?: { type?: string; text?: unknown }[] } | null)?.content;
  const first = Array.isArray(content) ? content[0] : undefined;
  return typeof first?.text === 'string' ? first.text : '';
}

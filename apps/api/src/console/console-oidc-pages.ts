/** The page the callback shows when it signs nobody in: plain HTML under the console's CSP, nothing inline. */
export function signInProblemPage(status: 400 | 403 | 502, message: string, consoleHome: string): string {
  const title = status === 403 ? 'Not a platform admin' : 'Sign-in failed';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} · Switchboard</title></head>`,
    '<body><main>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p role="alert">${escapeHtml(message)}</p>`,
    `<p><a href="${escapeHtml(consoleHome)}">Back to the console's sign-in page</a></p>`,
    '</main></body>',
    '</html>',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A mail's content: plain text (which carries the link, as the contract asks) and an HTML alternative. */
export interface MailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** `page` under PUBLIC_URL with the token as its `token` query parameter: the web app's page posts it back to the API. */
export function mailLink(publicUrl: string, page: string, token: string): string {
  const url = new URL(page, publicUrl);
  url.searchParams.set('token', token);
  return url.toString();
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

function lifetime(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? '24 hours' : `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}

function compose(subject: string, lines: string[], link: string, action: string, footer: string): MailContent {
  const text = [...lines, '', link, '', footer, ''].join('\n');
  const html =
    `<!doctype html><html><body>${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('')}` +
    `<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p><p>${escapeHtml(link)}</p><p>${escapeHtml(footer)}</p></body></html>`;
  return { subject, text, html };
}

export function passwordResetMail(link: string, ttlSeconds: number): MailContent {
  return compose(
    'Reset your password',
    [
      'Someone (we hope you) asked to reset the password of your account.',
      `Open this link within ${lifetime(ttlSeconds)} to choose a new one; it works once:`,
    ],
    link,
    'Choose a new password',
    'If you did not ask for this, ignore this mail: your password stays as it is.',
  );
}

export function verificationMail(link: string, ttlSeconds: number): MailContent {
  return compose(
    'Verify your email address',
    ['Please confirm that this address belongs to your account.', `Open this link within ${lifetime(ttlSeconds)}; it works once:`],
    link,
    'Verify my email address',
    'If you did not create an account, ignore this mail.',
  );
}

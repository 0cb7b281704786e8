const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const BASIC = /^Basic +([A-Za-z0-9+/]+=*)$/i;

/** RFC 6750 §2.1 */
export function bearerToken(header: string | undefined): string | undefined {
  return BEARER.exec(header ?? '')?.[1];
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
export function basicCredentials(header: string | undefined): { clientId: string; secret: string } | undefined {
  const encoded = BASIC.exec(header ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')),
    };
  } catch {
    return undefined;
  }
}

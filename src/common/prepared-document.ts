import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** A JSON document serialised once, with its strong ETag, for routes polled by many clients. */
export interface PreparedDocument {
  readonly body: string;
  readonly etag: string;
}

/** The ETag comes from the content, so replicas serving the same content agree on it. */
export function prepareDocument(body: string): PreparedDocument {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** True when an If-None-Match header lists this ETag (or is "*"). */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
}

/**
 * Sends the document as it is, with Cache-Control and ETag, or a 304 when the client holds it.
 * @returns the status sent
 */
export function sendPreparedDocument(
  reply: FastifyReply,
  ifNoneMatch: string | undefined,
  document: PreparedDocument,
  options: { maxAgeSeconds: number; contentType: string },
): 200 | 304 {
  void reply.header('cache-control', `public, max-age=${options.maxAgeSeconds}`).header('etag', document.etag);
  if (matchesEtag(ifNoneMatch, document.etag)) {
    void reply.status(304).send();
    return 304;
  }
  void reply.header('content-type', options.contentType).send(document.body);
  return 200;
}

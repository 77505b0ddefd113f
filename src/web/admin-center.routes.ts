import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { badRequest, GraphError } from '../graph/errors.js';
import { errorEnvelope } from '../http/errors.js';
import { actorOf } from '../http/authenticate.js';
import { findTenant } from '../tenancy/tenants.service.js';

/**
 * Where `vite build` writes the admin center: `dist/web` next to the compiled server
 * (dist/src/web/… → dist/web), or under the checkout when the sources run through tsx.
 */
export function defaultWebRoot(): string {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.basename(up) === 'dist' ? path.join(up, 'web') : path.join(up, 'dist', 'web');
}

/** Paths the server itself answers; the single-page app never takes them over. */
const serverPrefixes = ['/v1.0', '/oauth2', '/redeem', '/signin', '/signout', '/my', '/healthz', '/readyz', '/openapi.json', '/.well-known'];
const isServerPath = (p: string) => serverPrefixes.some((prefix) => p === prefix || p.startsWith(`${prefix}/`) || p.startsWith(`${prefix}?`));

// The app's scripts and styles come from this origin only; Fluent UI (Griffel) inserts style rules at run time.
const appCsp =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function fileIn(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  if (!full.startsWith(root + path.sep)) return null;
  try {
    return statSync(full).isFile() ? path.relative(root, full) : null;
  } catch {
    return null;
  }
}

/**
 * The admin center: its built files, `index.html` for any other page a browser opens (the app
 * routes on the client), and `GET /v1.0/foyer/adminCenter` telling the app what this server offers.
 * Requests that do not ask for HTML keep the API's 401/404 answers.
 */
export async function registerAdminCenter(
  app: FastifyInstance,
  opts: { db: Kysely<Database>; tenantId: string; outboxActive: boolean; inviteTtlDays: number; root?: string },
): Promise<void> {
  const root = path.resolve(opts.root ?? defaultWebRoot());
  await app.register(fastifyStatic, { root, serve: false });

  app.get(
    '/v1.0/foyer/adminCenter',
    { schema: { tags: ['admin center'], summary: 'What the admin center shows: organization and mail outbox' } },
    async (req) => {
      actorOf(req);
      const tenant = await findTenant(opts.db, opts.tenantId);
      return {
        organization: { id: tenant!.id, displayName: tenant!.displayName, initialDomain: tenant!.initialDomain },
        mailOutbox: opts.outboxActive,
        inviteTtlDays: opts.inviteTtlDays,
      };
    },
  );

  const notFound = (req: FastifyRequest, reply: FastifyReply) => {
    // Unknown API paths answered 401 to anonymous callers before the app existed; they still do.
    if (!req.actor) throw new GraphError('Authentication_MissingOrMalformed', 'Access token is empty or the session has expired. Sign in again.');
    const segment = req.url.split('?')[0];
    return reply.status(404).send(errorEnvelope(req, 'Request_ResourceNotFound', `Resource not found for the segment '${segment}'.`));
  };

  app.get('/*', { config: { anonymous: true }, schema: { hide: true } }, async (req, reply) => {
    const urlPath = req.url.split('?')[0]!;
    // An over-long segment skips the API's parameter routes and lands here; answer it as they would have.
    if (urlPath.split('/').some((segment) => segment.length > 1024)) throw badRequest('A segment of the URL is too long.');
    if (isServerPath(urlPath)) return notFound(req, reply);
    const file = urlPath === '/' ? null : fileIn(root, urlPath);
    if (file) {
      // Vite puts a content hash in every asset name, so those never change.
      const immutable = file.startsWith(`assets${path.sep}`);
      return reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache').sendFile(file, { cacheControl: false });
    }
    if (!(req.headers.accept ?? '').includes('text/html')) return notFound(req, reply);
    reply.header('cache-control', 'no-store').header('content-security-policy', appCsp).header('x-frame-options', 'DENY');
    if (fileIn(root, '/index.html')) return reply.sendFile('index.html', { cacheControl: false });
    return reply
      .status(503)
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Foyer</title></head><body><main><h1>The admin center is not built</h1>' +
          '<p>Run <code>npm run build</code> (or <code>npm install</code>) to build it into dist/web. The API under /v1.0 works without it.</p></main></body></html>',
      );
  });
}

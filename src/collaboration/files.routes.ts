import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../http/context.js';
import { badRequest, notFound } from '../graph/errors.js';
import type { FilesService } from './files.service.js';
import { isPreviewable } from './files.service.js';
import type { TeamsService } from './teams.service.js';
import { CreateLinkBody, FolderCreateBody, InviteBody } from './collaboration.schemas.js';

type P = { driveId: string; itemId: string; versionId: string; id: string; channelId: string; '*': string; token: string };
type Ctx = (r: FastifyRequest) => RequestContext;
const tags = ['files'];

/** `attachment; filename="..."` with an ASCII fallback and the exact name in RFC 5987 form. */
function disposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Sends file content. Images and PDFs are shown in the browser; anything else is an opaque
 * download, so a stored HTML or SVG file never runs as a page of this origin.
 */
export function sendFile(reply: FastifyReply, file: { name: string; contentType: string; data: Buffer }, preview: boolean) {
  const inline = preview && isPreviewable(file.contentType);
  reply
    .header('content-type', inline ? file.contentType : 'application/octet-stream')
    .header('content-disposition', disposition(inline ? 'inline' : 'attachment', file.name))
    .header('cache-control', 'private, no-store')
    .header('x-content-type-options', 'nosniff');
  if (file.contentType !== 'application/pdf') reply.header('content-security-policy', "default-src 'none'; img-src 'self'; sandbox");
  return reply.send(file.data);
}

export async function registerFileRoutes(
  app: FastifyInstance,
  deps: { files: FilesService; teams: TeamsService },
  ctx: Ctx,
  options: { uploadMaxBytes: number },
) {
  const { files, teams } = deps;
  const p = (req: FastifyRequest) => req.params as P;
  const item = (req: FastifyRequest) => p(req).itemId ?? 'root';
  const preview = (req: FastifyRequest) => (req.query as Record<string, string>).preview === '1';

  app.get('/v1.0/groups/:id/drive', { schema: { tags, summary: "A team's document library" } }, (req) => files.groupDrive(ctx(req), p(req).id));
  app.get('/v1.0/teams/:id/channels/:channelId/filesFolder', { schema: { tags, summary: "A channel's folder (files of its posts)" } }, async (req) => {
    const c = ctx(req);
    const { folder } = await teams.channelFolder(c, p(req).id, p(req).channelId);
    return { '@odata.context': `${c.baseUrl}/v1.0/$metadata#driveItems/$entity`, ...files.shapeItem(c, folder) };
  });
  app.get('/v1.0/drives/:driveId', { schema: { tags, summary: 'Get a document library' } }, (req) => files.getDrive(ctx(req), p(req).driveId));
  for (const prefix of ['/v1.0/drives/:driveId/root', '/v1.0/drives/:driveId/items/:itemId']) {
    app.get(prefix, { schema: { tags, summary: 'Get an item' } }, (req) => files.getItem(ctx(req), p(req).driveId, item(req)));
    app.get(`${prefix}/children`, { schema: { tags, summary: 'List a folder' } }, (req) => files.children(ctx(req), p(req).driveId, item(req)));
    app.post(`${prefix}/children`, { schema: { tags, summary: 'Create a folder', body: FolderCreateBody } }, async (req, reply) =>
      reply.status(201).send(await files.createFolder(ctx(req), p(req).driveId, item(req), (req.body as { name: string }).name)),
    );
    app.post(`${prefix}/invite`, { schema: { tags, summary: 'Share with people by email', body: InviteBody } }, (req) =>
      files.invite(ctx(req), p(req).driveId, item(req), req.body as InviteBody),
    );
    app.post(`${prefix}/createLink`, { schema: { tags, summary: 'Create a sharing link', body: CreateLinkBody } }, async (req, reply) =>
      reply.status(201).send(await files.createLink(ctx(req), p(req).driveId, item(req), req.body as CreateLinkBody)),
    );
  }
  app.get(
    '/v1.0/drives/:driveId/items/:itemId/content',
    { schema: { tags, summary: 'Download a file (?preview=1 shows images and PDFs)' } },
    async (req, reply) => sendFile(reply, await files.content(ctx(req), p(req).driveId, p(req).itemId), preview(req)),
  );
  app.get('/v1.0/drives/:driveId/items/:itemId/versions', { schema: { tags, summary: 'Version history' } }, (req) =>
    files.versions(ctx(req), p(req).driveId, p(req).itemId),
  );
  app.get('/v1.0/drives/:driveId/items/:itemId/versions/:versionId/content', { schema: { tags, summary: 'Download a version' } }, async (req, reply) =>
    sendFile(reply, await files.content(ctx(req), p(req).driveId, p(req).itemId, p(req).versionId), false),
  );
  app.delete('/v1.0/drives/:driveId/items/:itemId', { schema: { tags, summary: 'Delete an item' } }, async (req, reply) => {
    await files.remove(ctx(req), p(req).driveId, p(req).itemId);
    return reply.status(204).send();
  });
  app.get('/s/:token', { config: { anonymous: true }, schema: { hide: true } }, async (req, reply) => {
    const file = await files.openLink(p(req).token);
    if (!file) throw notFound('link');
    return sendFile(reply, file, preview(req));
  });

  // Uploads take the raw body of any type up to the upload limit; only these routes parse bodies that way.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.uploadMaxBytes }, (_req, body, done) => done(null, body));
    // Graph's simple upload: PUT /drives/{d}/items/{parent}:/{name}:/content, /drives/{d}/root:/{name}:/content, /drives/{d}/items/{id}/content.
    scope.put('/v1.0/drives/:driveId/*', { schema: { tags, summary: 'Upload a file (new, or a new version)' } }, async (req, reply) => {
      const rest = p(req)['*'];
      const data = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let m = /^(?:root|items\/([^/:]+)):\/(.+):\/content$/.exec(rest);
      if (m) {
        // The router has already decoded the path once; decoding again would turn "100%" into an error and "%41" into "A".
        const name = m[2]!;
        if (name.includes('/')) throw badRequest('Upload into a folder by its id: /items/{folder-id}:/{name}:/content.');
        const r = await files.upload(ctx(req), p(req).driveId, m[1] ?? 'root', name, data);
        return reply.status(r.created ? 201 : 200).send(r.item);
      }
      m = /^items\/([^/:]+)\/content$/.exec(rest);
      if (m) return files.replace(ctx(req), p(req).driveId, m[1]!, data);
      throw notFound(`/v1.0/drives/${p(req).driveId}/${rest}`);
    });
  });
}

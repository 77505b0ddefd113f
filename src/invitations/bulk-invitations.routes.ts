import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { RequestContext } from '../http/context.js';
import { badRequest, GraphError } from '../graph/errors.js';
import type { BulkInvitationsService, BulkOptions } from './bulk-invitations.service.js';

const Id = Type.Object({ id: Type.String({ maxLength: 256 }) });
type P = { id: string };
const csvTypes = ['text/csv', 'application/csv', 'application/vnd.ms-excel', 'text/plain'];

/** Copies an upload to a temporary file, refusing it once it passes `maxBytes`. */
async function saveUpload(source: Readable, file: string, maxBytes: number): Promise<void> {
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) done(badRequest(`The file is larger than the upload limit of ${Math.floor(maxBytes / (1024 * 1024))} MB.`));
      else done(null, chunk);
    },
  });
  await pipeline(source, limit, createWriteStream(file));
}

/** A multipart Content-Type's boundary as RFC 2046 allows it (1 to 70 characters, quoted or not). */
const multipartBoundary = /;\s*boundary=(?:"[^"]{1,70}"|[^\s;"]{1,70})\s*(;|$)/i;

/**
 * A failure while reading a multipart body that is the body's fault (busboy's "Unexpected end of
 * multipart data" and the like), as opposed to one of ours: those carry a status, or come from the
 * file system (a syscall).
 */
const isMalformedBody = (error: unknown) =>
  error instanceof Error && !(error instanceof GraphError) && (error as { statusCode?: number }).statusCode === undefined && !('syscall' in error);

/** Options from the query string (`text/csv` uploads) or the multipart form's fields. */
function readOptions(fields: Record<string, string | undefined>): BulkOptions {
  const groups = fields.groups
    ?.split(/[,;]/)
    .map((g) => g.trim())
    .filter(Boolean);
  return { redirectUrl: fields.redirectUrl || undefined, language: fields.language || undefined, groups };
}

export function registerBulkInvitationRoutes(
  app: FastifyInstance,
  bulk: BulkInvitationsService,
  ctx: (r: FastifyRequest) => RequestContext,
  limits: { maxBytes: number },
): void {
  const tags = ['bulk invitations'];

  app.get('/v1.0/foyer/bulkInvitations/template', { schema: { tags, summary: "Entra's bulk invite template" } }, async (req, reply) => {
    const template = bulk.template(ctx(req));
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="BulkInviteTemplate.csv"')
      .send(template);
  });
  app.get('/v1.0/foyer/bulkInvitations', { schema: { tags, summary: 'Past bulk invitations, newest first' } }, (req) => bulk.list(ctx(req)));
  app.get('/v1.0/foyer/bulkInvitations/:id', { schema: { tags, summary: 'Progress and counts of one upload', params: Id } }, (req) =>
    bulk.get(ctx(req), (req.params as P).id),
  );
  app.post('/v1.0/foyer/bulkInvitations/:id/cancel', { schema: { tags, summary: 'Stop an upload', params: Id } }, (req) =>
    bulk.cancel(ctx(req), (req.params as P).id),
  );
  app.get(
    '/v1.0/foyer/bulkInvitations/:id/results',
    {
      schema: {
        tags,
        summary: 'Result file: one line per line of the upload',
        params: Id,
        querystring: Type.Object({ status: Type.Optional(Type.Literal('failed')) }),
      },
    },
    async (req, reply) => {
      const { id } = req.params as P;
      const lines = bulk.results(ctx(req), id, (req.query as { status?: string }).status === 'failed');
      // The first step checks access and existence, so a bad id is a 404 rather than a broken download.
      const first = await lines.next();
      const rest = Readable.from(
        (async function* () {
          if (!first.done) yield first.value;
          yield* lines;
        })(),
      );
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="bulk-invitation-${id.replace(/[^0-9a-f-]/gi, '')}-results.csv"`)
        .send(rest);
    },
  );

  // The upload: multipart (a browser's form) or the file as the body (scripts, the CLI).
  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: limits.maxBytes, files: 1, fields: 10 } });
    // The file arrives as a stream and is copied to disk: never parsed or held whole in memory.
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser(csvTypes, { bodyLimit: limits.maxBytes }, (_req, payload, done) => done(null, payload));
    scope.post(
      '/v1.0/foyer/bulkInvitations',
      {
        bodyLimit: limits.maxBytes,
        schema: {
          tags,
          summary: 'Upload a CSV of guests to invite (Entra template or plain CSV); answers 202 with the job, or 200 with a preview when validateOnly=true',
          querystring: Type.Object({
            redirectUrl: Type.Optional(Type.String({ maxLength: 2048 })),
            language: Type.Optional(Type.String({ maxLength: 20 })),
            groups: Type.Optional(Type.String({ maxLength: 20_000 })),
            fileName: Type.Optional(Type.String({ maxLength: 256 })),
            validateOnly: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
          }),
        },
      },
      async (req, reply) => {
        const context = ctx(req);
        const fields: Record<string, string | undefined> = { ...(req.query as Record<string, string>) };
        const dir = await mkdtemp(path.join(tmpdir(), 'foyer-upload-'));
        const file = path.join(dir, 'upload.csv');
        try {
          let name = fields.fileName ?? 'upload.csv';
          if (req.isMultipart()) {
            if (!multipartBoundary.test(req.headers['content-type'] ?? ''))
              throw badRequest('The multipart form has no boundary: send Content-Type multipart/form-data; boundary=... as a browser or an HTTP library does.');
            let received = false;
            try {
              for await (const part of req.parts()) {
                if (part.type === 'file') {
                  await saveUpload(part.file, file, limits.maxBytes);
                  if (part.file.truncated) throw badRequest(`The file is larger than the upload limit of ${Math.floor(limits.maxBytes / (1024 * 1024))} MB.`);
                  name = part.filename || name;
                  received = true;
                } else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
              }
            } catch (error) {
              if (isMalformedBody(error)) throw badRequest(`The multipart form could not be read: ${(error as Error).message}.`);
              throw error;
            }
            if (!received) throw badRequest('The form has no file: send the CSV in a field of type file.');
          } else {
            const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
            if (!csvTypes.includes(type)) throw badRequest('Send the CSV as multipart/form-data or as a text/csv body.');
            await saveUpload(req.body as Readable, file, limits.maxBytes);
          }
          const source = { open: () => createReadStream(file), name };
          if (fields.validateOnly === 'true') return reply.status(200).send(await bulk.validate(context, source, readOptions(fields)));
          const result = await bulk.upload(context, source, readOptions(fields));
          return reply.status(202).header('location', `${context.baseUrl}/v1.0/foyer/bulkInvitations/${result.id}`).send(result);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
}

import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../http/context.js';
import { requireAccess } from '../auth/permissions.js';
import type { UsersService } from './users.service.js';
import type { FilterNode } from '../graph/filter-parser.js';

const columns: [header: string, value: (u: Record<string, unknown>) => unknown][] = [
  ['Display name', (u) => u.displayName],
  ['Email', (u) => u.mail],
  ['User principal name', (u) => u.userPrincipalName],
  ['Invitation state', (u) => u.externalUserState],
  ['Source', (u) => u.foyerSource],
  ['Invited by', (u) => (u.foyerInvitedBy as { displayName: string | null } | null)?.displayName],
  ['Created', (u) => u.createdDateTime],
  ['Last sign-in', (u) => (u.signInActivity as { lastSignInDateTime: string | null } | null)?.lastSignInDateTime],
  ['Sign-in allowed', (u) => (u.accountEnabled ? 'Yes' : 'No')],
  ['Object id', (u) => u.id],
];
/** The clause every export stays inside. */
const guestsOnly: FilterNode = { kind: 'compare', op: 'eq', path: ['userType'], value: 'Guest' };
const select = 'id,displayName,mail,userPrincipalName,externalUserState,foyerSource,foyerInvitedBy,createdDateTime,signInActivity,accountEnabled';

/**
 * One CSV field (RFC 4180 quoting). A value a spreadsheet would run as a formula (= + - @, tab,
 * carriage return first) gets a leading apostrophe: guests choose their own display names.
 */
export function csvField(value: unknown): string {
  let text = value == null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
const csvLine = (fields: unknown[]) => `${fields.map(csvField).join(',')}\r\n`;

/**
 * `GET /v1.0/foyer/guests/export`: every guest matching `$filter` / `$search` / `$orderby` (the
 * Guest users page's query) as CSV, streamed page by page so memory stays flat at any size.
 */
export function registerGuestExportRoutes(app: FastifyInstance, users: UsersService, ctx: (r: FastifyRequest) => RequestContext): void {
  app.get(
    '/v1.0/foyer/guests/export',
    { schema: { tags: ['users'], summary: 'Export guests as CSV (same $filter, $search, $orderby as the list)' } },
    async (req, reply) => {
      const c = ctx(req);
      requireAccess(c.actor, 'users.export');
      const query = c.query;
      // Export runs in advanced-query mode, so every filter and sort the list accepts with it is accepted here. The
      // caller's options go on as they came (a repeated one is refused by the parser), and `$filter` is joined to
      // the guest clause as a syntax tree, never as text, so no filter can close the clause and reach members.
      const pages = users.listAll(
        {
          ...c,
          consistencyLevel: 'eventual',
          query: {
            ...(query.$filter !== undefined ? { $filter: query.$filter } : {}),
            $select: select,
            $count: 'true',
            ...(query.$search !== undefined ? { $search: query.$search } : {}),
            ...(query.$orderby !== undefined ? { $orderby: query.$orderby } : {}),
          },
        },
        guestsOnly,
      );
      // The first page is read before answering, so a bad query is a Graph error, not a broken download.
      const first = await pages.next();
      async function* lines() {
        yield `\ufeff${csvLine(columns.map(([h]) => h))}`;
        let page = first;
        while (!page.done) {
          yield page.value.map((u) => csvLine(columns.map(([, v]) => v(u)))).join('');
          page = await pages.next();
        }
      }
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="guests-${day}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines()));
    },
  );
}

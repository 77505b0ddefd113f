import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import type { EntityDefinition } from '../graph/entity.js';
import { notFound } from '../graph/errors.js';
import { listCollection } from '../graph/list.js';
import { recordAudit, type AuditTarget } from '../audit/audit.service.js';
import { requireAccess } from '../auth/permissions.js';
import { foldEmail } from '../directory/email.js';

/** `GET /v1.0/foyer/blockedInvitees`: one entry per address, in address order. */
export const blockedInviteeEntity: EntityDefinition = {
  type: 'foyerBlockedInvitee',
  entitySet: 'foyer/blockedInvitees',
  properties: ['id', 'emailAddress', 'createdDateTime'],
  defaultProperties: ['id', 'emailAddress', 'createdDateTime'],
  filterable: { emailAddress: { column: 'email_lower', type: 'string', caseInsensitive: true, startsWith: true } },
  sortable: {},
  keyColumn: 'email_lower',
  searchable: [],
  advancedQueryGating: false,
};

/** An audit target naming a blocked address; the address is its id, so the log can be filtered by it. */
export const blockedInviteeTarget = (emailLower: string): AuditTarget => ({ id: emailLower, displayName: emailLower, type: 'Other' });

type BlockedRow = { email_lower: string; created_at: string };
const shape = (r: BlockedRow, select: readonly string[]) => {
  const all: Record<string, unknown> = { id: r.email_lower, emailAddress: r.email_lower, createdDateTime: r.created_at };
  return Object.fromEntries(['id', ...select.filter((p) => p !== 'id')].map((p) => [p, all[p]]));
};

/**
 * The addresses whose owners used "block future invitations" in an invitation email: listed, and
 * removed by an administrator (after which the address can be invited again). Blocking itself is
 * the invitee's, on the guest pages (redemption.service.ts). `commandLine` is the `foyer` command's
 * service: whoever runs it holds the database, so no role is asked.
 */
export function createBlockedInviteesService(deps: { db: Kysely<Database>; clock: Clock; secret: string; commandLine?: boolean }) {
  const { db, clock } = deps;
  const authorize = (ctx: RequestContext, action: 'blockedInvitees.read' | 'blockedInvitees.write') => {
    if (!deps.commandLine) requireAccess(ctx.actor, action);
  };
  return {
    async list(ctx: RequestContext) {
      authorize(ctx, 'blockedInvitees.read');
      const base = db.selectFrom('blocked_invitees').select(['email_lower', 'created_at']).where('tenant_id', '=', ctx.actor.tenantId);
      return listCollection<BlockedRow>({
        db,
        secret: deps.secret,
        ctx,
        entity: blockedInviteeEntity,
        base,
        shape: (rows, select) => rows.map((r) => shape(r, select)),
      });
    },

    /** Lifts the block of `address` (any case); 404 when it is not blocked. */
    async remove(ctx: RequestContext, address: string): Promise<void> {
      authorize(ctx, 'blockedInvitees.write');
      const emailLower = foldEmail(address.trim());
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom('blocked_invitees')
          .where('tenant_id', '=', ctx.actor.tenantId)
          .where('email_lower', '=', emailLower)
          .executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) throw notFound(address);
        await recordAudit(
          trx,
          ctx.actor,
          { activity: 'Remove blocked invitee', category: 'UserManagement', operationType: 'Delete', targets: [blockedInviteeTarget(emailLower)] },
          ctx.correlationId,
          now,
        );
      });
    },
  };
}
export type BlockedInviteesService = ReturnType<typeof createBlockedInviteesService>;

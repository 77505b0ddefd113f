import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { recordAudit, diffProperties } from '../audit/audit.service.js';
import { requireAccess } from '../auth/permissions.js';
import { findTenant, type AuthorizationPolicy } from './tenants.service.js';

/** `/policies/authorizationPolicy`: who may invite, and what guests may see. */
export function createPoliciesService(deps: { db: Kysely<Database>; engine: Engine; clock: Clock }) {
  const { db, clock } = deps;
  const shape = (ctx: RequestContext, p: AuthorizationPolicy) => ({
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#policies/authorizationPolicy/$entity`,
    id: 'authorizationPolicy',
    displayName: 'Authorization Policy',
    description: 'Used to manage authorization related settings across the company.',
    allowInvitesFrom: p.allowInvitesFrom,
    guestUserRoleId: p.guestUserRoleId,
    allowedToSignUpEmailBasedSubscriptions: p.allowedToSignUpEmailBasedSubscriptions ?? false,
  });
  return {
    async getAuthorizationPolicy(ctx: RequestContext) {
      requireAccess(ctx.actor, 'policy.read');
      return shape(ctx, (await findTenant(db, ctx.actor.tenantId))!.authorizationPolicy);
    },
    async updateAuthorizationPolicy(ctx: RequestContext, patch: Partial<AuthorizationPolicy>): Promise<void> {
      requireAccess(ctx.actor, 'policy.write');
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const before = (await findTenant(trx, ctx.actor.tenantId))!.authorizationPolicy;
        const after = { ...before, ...patch };
        await trx
          .updateTable('tenants')
          .set({ authorization_policy: JSON.stringify(after) })
          .where('id', '=', ctx.actor.tenantId)
          .execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update policy',
            category: 'Policy',
            operationType: 'Update',
            targets: [
              {
                id: 'authorizationPolicy',
                displayName: 'Authorization Policy',
                type: 'Policy',
                modifiedProperties: diffProperties(before as unknown as Record<string, unknown>, patch),
              },
            ],
          },
          ctx.correlationId,
          now,
        );
      });
    },
  };
}
export type PoliciesService = ReturnType<typeof createPoliciesService>;

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden } from '../graph/errors.js';
import { recordAudit, diffProperties } from '../audit/audit.service.js';
import { requireAccess } from '../auth/permissions.js';
import { isAsciiDomainName } from '../directory/email.js';

/** Domains guests may come from: any, only those listed (allow), or all but those listed (deny). */
export interface CollaborationPolicy {
  mode: 'none' | 'allow' | 'deny';
  domains: string[];
}

const MAX_POLICY_CHARACTERS = 25_000;

export async function readCollaborationPolicy(db: Kysely<Database>, tenantId: string): Promise<CollaborationPolicy> {
  const row = await db.selectFrom('tenants').select('collaboration_policy').where('id', '=', tenantId).executeTakeFirstOrThrow();
  return JSON.parse(row.collaboration_policy) as CollaborationPolicy;
}

/** Whether the policy lets guests from `domain` in; `*.example.test` also covers subdomains. */
export function domainAllowed(policy: CollaborationPolicy, domain: string): boolean {
  if (policy.mode === 'none') return true;
  const d = domain.toLowerCase();
  const listed = policy.domains.some((p) => p === d || (p.startsWith('*.') && (d === p.slice(2) || d.endsWith(p.slice(1)))));
  return policy.mode === 'allow' ? listed : !listed;
}

export const domainBlocked = (domain: string) => forbidden(`Invitations to '${domain}' are blocked by your organization's external collaboration settings.`);

export function createCollaborationPolicyService(deps: { db: Kysely<Database>; clock: Clock }) {
  const { db, clock } = deps;
  return {
    async get(ctx: RequestContext) {
      requireAccess(ctx.actor, 'policy.read');
      const p = await readCollaborationPolicy(db, ctx.actor.tenantId);
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/policies/collaboration/$entity`, mode: p.mode, domains: p.domains };
    },
    /** One list at a time: switching between allow and deny discards the list unless a new one is given. */
    async update(ctx: RequestContext, patch: { mode?: CollaborationPolicy['mode']; domains?: string[] }): Promise<void> {
      requireAccess(ctx.actor, 'policy.write');
      const domains = patch.domains?.map((d) => d.trim().toLowerCase());
      const bad = domains?.find((d) => !isAsciiDomainName(d.replace(/^\*\./, '')));
      if (bad !== undefined) throw badRequest(`'${bad}' is not a domain name.`);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const before = await readCollaborationPolicy(trx, ctx.actor.tenantId);
        const mode = patch.mode ?? before.mode;
        const after: CollaborationPolicy = { mode, domains: mode === 'none' ? [] : [...new Set(domains ?? (mode === before.mode ? before.domains : []))] };
        if (after.mode !== 'none' && after.domains.length === 0 && after.mode === 'allow') throw badRequest('An allow list needs at least one domain.');
        if (JSON.stringify(after).length > MAX_POLICY_CHARACTERS)
          throw badRequest(`The collaboration policy may be at most ${MAX_POLICY_CHARACTERS} characters.`);
        await trx
          .updateTable('tenants')
          .set({ collaboration_policy: JSON.stringify(after) })
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
                id: 'collaborationPolicy',
                displayName: 'External collaboration settings',
                type: 'Policy',
                modifiedProperties: diffProperties({ ...before }, { ...after }),
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
export type CollaborationPolicyService = ReturnType<typeof createCollaborationPolicyService>;

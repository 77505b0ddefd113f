import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest } from '../graph/errors.js';
import { recordAudit, diffProperties } from '../audit/audit.service.js';
import { requireAccess } from '../auth/permissions.js';
import './tables.js';

/**
 * Sharing levels, weakest last, with SharePoint's names: Anyone (ExternalUserAndGuestSharing), New and
 * existing guests (ExternalUserSharingOnly), Existing guests only (ExistingExternalUserSharingOnly),
 * Only people in your organization (Disabled).
 */
export const sharingLevels = ['ExternalUserAndGuestSharing', 'ExternalUserSharingOnly', 'ExistingExternalUserSharingOnly', 'Disabled'] as const;
export type SharingLevel = (typeof sharingLevels)[number];
/** The stricter of two levels: a site's level never exceeds the organization's. */
export const stricter = (a: SharingLevel, b: SharingLevel): SharingLevel => (sharingLevels.indexOf(a) > sharingLevels.indexOf(b) ? a : b);
export const allowsNewGuests = (l: SharingLevel) => l === 'ExternalUserAndGuestSharing' || l === 'ExternalUserSharingOnly';
export const allowsGuests = (l: SharingLevel) => l !== 'Disabled';
export const allowsAnyoneLinks = (l: SharingLevel) => l === 'ExternalUserAndGuestSharing';

/** Settings > Teams guest access and Settings > Sharing of the organization. */
export interface CollaborationSettings {
  /** Teams guest access: off means no guest can be added to or use any team. */
  allowGuestAccessInTeams: boolean;
  /** Teams' guest defaults: guests cannot create, update or delete channels. */
  allowGuestsToCreateUpdateChannels: boolean;
  /** The organization's sharing level: the ceiling of every site. */
  sharingCapability: SharingLevel;
  /** "Anyone" links expire after this many days. */
  anyoneLinkExpirationDays: number;
  /** Guest access to a site expires after this many days (null: never); site owners renew it. */
  guestAccessExpirationDays: number | null;
}

export const defaultCollaborationSettings: CollaborationSettings = {
  allowGuestAccessInTeams: true,
  allowGuestsToCreateUpdateChannels: false,
  sharingCapability: 'ExternalUserSharingOnly',
  anyoneLinkExpirationDays: 30,
  guestAccessExpirationDays: null,
};

export async function readCollaborationSettings(db: Kysely<Database>, tenantId: string): Promise<CollaborationSettings> {
  const row = await db.selectFrom('collaboration_settings').select('settings').where('tenant_id', '=', tenantId).executeTakeFirst();
  return { ...defaultCollaborationSettings, ...(row ? (JSON.parse(row.settings) as Partial<CollaborationSettings>) : {}) };
}

export function createCollaborationSettingsService(deps: { db: Kysely<Database>; clock: Clock }) {
  const { db, clock } = deps;
  const shape = (ctx: RequestContext, s: CollaborationSettings) => ({
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/settings/collaboration/$entity`,
    ...s,
  });
  return {
    async get(ctx: RequestContext) {
      requireAccess(ctx.actor, 'policy.read');
      return shape(ctx, await readCollaborationSettings(db, ctx.actor.tenantId));
    },
    async update(ctx: RequestContext, patch: Partial<CollaborationSettings>) {
      requireAccess(ctx.actor, 'policy.write');
      if (patch.sharingCapability !== undefined && !sharingLevels.includes(patch.sharingCapability))
        throw badRequest(`sharingCapability must be one of ${sharingLevels.join(', ')}.`);
      const now = clock.now().toISOString();
      return db.transaction().execute(async (trx) => {
        const before = await readCollaborationSettings(trx, ctx.actor.tenantId);
        const after = { ...before, ...patch };
        await trx
          .insertInto('collaboration_settings')
          .values({ tenant_id: ctx.actor.tenantId, settings: JSON.stringify(after) })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ settings: JSON.stringify(after) }))
          .execute();
        // Lowering the ceiling lowers every site above it, so no site keeps a level the organization no longer allows.
        if (patch.sharingCapability !== undefined) {
          const weaker = sharingLevels.slice(0, sharingLevels.indexOf(after.sharingCapability));
          if (weaker.length)
            await trx
              .updateTable('sites')
              .set({ sharing_capability: after.sharingCapability })
              .where('tenant_id', '=', ctx.actor.tenantId)
              .where('sharing_capability', 'in', weaker)
              .execute();
        }
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update policy',
            category: 'Policy',
            operationType: 'Update',
            targets: [
              {
                id: ctx.actor.tenantId,
                displayName: 'Collaboration settings',
                type: 'Policy',
                modifiedProperties: diffProperties(before as unknown as Record<string, unknown>, patch as Record<string, unknown>),
              },
            ],
          },
          ctx.correlationId,
          now,
        );
        return shape(ctx, after);
      });
    },
  };
}
export type CollaborationSettingsService = ReturnType<typeof createCollaborationSettingsService>;

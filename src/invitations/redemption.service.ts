import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../auth/permissions.js';
import type { AuthService } from '../auth/auth.service.js';
import type { OneTimeCodes, CodeCheck } from '../auth/one-time-codes.js';
import { hashToken } from '../auth/secrets.js';
import { recordAudit } from '../audit/audit.service.js';
import { hitRateLimit } from '../http/rate-limit.js';
import { emailDomain } from '../directory/email.js';
import { findTenant, type Tenant } from '../tenancy/tenants.service.js';
import { queueMail } from '../mail/mail-queue.js';
import { oneTimeCodeMail, type Language } from '../mail/templates.js';
import { domainAllowed, readCollaborationPolicy } from './collaboration-policy.js';
import type { InvitationRow } from './invitations.service.js';
import { invitationOfBlockToken, isBlockTokenOf } from './invitation-mail.js';
import { blockedInviteeTarget } from './blocked-invitees.service.js';
import type { UserRow } from '../directory/users.repository.js';

/** Why a redeem link cannot be used; each is shown as its own clear page. */
export type LinkProblem = 'unknown' | 'revoked' | 'expired' | 'used' | 'domainBlocked';

export type LinkLookup = { ok: true; invitation: InvitationRow; user: UserRow; tenant: Tenant } | { ok: false; problem: LinkProblem; tenant?: Tenant };

/** Codes per address and per client IP, per 15 minutes. */
const CODES_PER_ADDRESS = 5;
const CODES_PER_IP = 30;
const CODE_WINDOW_SECONDS = 900;

/**
 * Guest-side flows: redeeming an invitation (consent once, then an email code), later sign-ins
 * with a code, blocking invitations, and leaving the organization.
 */
export function createRedemptionService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  secret: string;
  mailFrom: string;
  codes: OneTimeCodes;
  auth: AuthService;
}) {
  const { db, clock, codes, auth } = deps;

  const guestActor = (user: UserRow): Actor => ({
    kind: 'user',
    tenantId: user.tenant_id,
    userId: user.id,
    displayName: user.display_name,
    userPrincipalName: user.user_principal_name,
    userType: user.user_type,
    roles: new Set(),
    sessionTokenHash: '',
    guestAccess: '',
  });

  /** Resolves a redeem link; the token is only ever compared by its hash. */
  async function lookup(token: string | undefined): Promise<LinkLookup> {
    if (!token || token.length > 100) return { ok: false, problem: 'unknown' };
    return usable(await db.selectFrom('invitations').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst());
  }

  /** Resolves a "block future invitations" link: its own token, which only the invitation's current email carries. */
  async function lookupBlock(token: string | undefined): Promise<LinkLookup> {
    const id = token && token.length <= 100 ? invitationOfBlockToken(token) : null;
    if (!id) return { ok: false, problem: 'unknown' };
    const invitation = await db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
    return usable(invitation && isBlockTokenOf(deps.secret, token!, invitation) ? invitation : undefined);
  }

  /** Whether the invitation of a link can still be used, and by whom. */
  async function usable(invitation: InvitationRow | undefined): Promise<LinkLookup> {
    if (!invitation) return { ok: false, problem: 'unknown' };
    const tenant = (await findTenant(db, invitation.tenant_id))!;
    if (invitation.status === 'Accepted') return { ok: false, problem: 'used', tenant };
    if (invitation.status === 'Revoked') return { ok: false, problem: 'revoked', tenant };
    if (invitation.token_expires_at <= clock.now().toISOString()) return { ok: false, problem: 'expired', tenant };
    const user = await db.selectFrom('users').selectAll().where('id', '=', invitation.user_id).where('deleted_at', 'is', null).executeTakeFirst();
    if (!user || !user.account_enabled) return { ok: false, problem: 'revoked', tenant };
    // Checked again here: the domain may have been blocked after the invitation was sent.
    if (!domainAllowed(await readCollaborationPolicy(db, tenant.id), emailDomain(invitation.invited_email)))
      return { ok: false, problem: 'domainBlocked', tenant };
    return { ok: true, invitation, user, tenant };
  }

  /** Issues a code and queues its email, within the per-address and per-IP limits (429 beyond them). */
  async function sendCode(user: UserRow, tenant: Tenant, email: string, ip: string, lang: Language): Promise<void> {
    const now = clock.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await hitRateLimit(trx, clock, { bucket: `otp:address:${email.toLowerCase()}`, limit: CODES_PER_ADDRESS, windowSeconds: CODE_WINDOW_SECONDS });
      await hitRateLimit(trx, clock, { bucket: `otp:ip:${ip}`, limit: CODES_PER_IP, windowSeconds: CODE_WINDOW_SECONDS });
      const code = await codes.issue(trx, tenant.id, user.id);
      await queueMail(
        trx,
        { tenantId: tenant.id, kind: 'one-time-code', from: deps.mailFrom, to: [email], ...oneTimeCodeMail({ lang, orgName: tenant.displayName, code }) },
        now,
      );
    });
  }

  return {
    lookup,
    lookupBlock,

    /** Records consent (asked once) and sends the first code. */
    async consentAndSendCode(found: Extract<LinkLookup, { ok: true }>, ip: string, lang: Language): Promise<void> {
      if (!found.user.consented_at) await db.updateTable('users').set({ consented_at: clock.now().toISOString() }).where('id', '=', found.user.id).execute();
      await sendCode(found.user, found.tenant, found.invitation.invited_email, ip, lang);
    },

    sendRedeemCode: (found: Extract<LinkLookup, { ok: true }>, ip: string, lang: Language) =>
      sendCode(found.user, found.tenant, found.invitation.invited_email, ip, lang),

    /**
     * Checks the code; on success the guest is Accepted with the email identity, the link is
     * used up, and a session starts. Returns where to send the guest next.
     */
    async redeem(found: Extract<LinkLookup, { ok: true }>, code: string): Promise<CodeCheck & { sessionToken?: string; redirectUrl?: string }> {
      const check = await codes.verify(db, found.user.id, code);
      if (!check.ok) return check;
      const now = clock.now().toISOString();
      const { invitation, user } = found;
      const accepted = await db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('invitations')
          .set({ status: 'Accepted', accepted_at: now })
          .where('id', '=', invitation.id)
          .where('status', '=', 'PendingAcceptance')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        await trx
          .updateTable('users')
          .set({
            external_user_state: 'Accepted',
            external_user_state_changed_at: now,
            consented_at: user.consented_at ?? now,
            identities: JSON.stringify([{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: invitation.invited_email }]),
          })
          .where('id', '=', user.id)
          .execute();
        await trx.deleteFrom('user_identities').where('user_id', '=', user.id).execute();
        await trx
          .insertInto('user_identities')
          .values({
            tenant_id: user.tenant_id,
            user_id: user.id,
            sign_in_type: 'emailAddress',
            issuer: 'mail',
            issuer_assigned_id_lower: invitation.invited_email_lower,
          })
          .execute();
        await recordAudit(
          trx,
          guestActor(user),
          {
            activity: 'Redeem external user invite',
            category: 'UserManagement',
            operationType: 'Update',
            targets: [
              {
                id: user.id,
                displayName: user.display_name,
                type: 'User',
                userPrincipalName: user.user_principal_name,
                modifiedProperties: [{ displayName: 'externalUserState', oldValue: '"PendingAcceptance"', newValue: '"Accepted"' }],
              },
            ],
          },
          `redeem-${invitation.id}`,
          now,
        );
        return true;
      });
      if (!accepted) return { ok: false, reason: 'none' };
      const session = await auth.startSession(user.tenant_id, user.id);
      return { ok: true, sessionToken: session.sessionToken, redirectUrl: invitation.redirect_url };
    },

    /** The accepted guest an address signs in as, if any. */
    async guestForSignIn(tenantId: string, email: string): Promise<UserRow | undefined> {
      // By the email identity set at redemption, which is the address the guest redeemed with.
      return db
        .selectFrom('users as u')
        .selectAll('u')
        .where('u.id', 'in', (eb) =>
          eb
            .selectFrom('user_identities')
            .select('user_id')
            .where('tenant_id', '=', tenantId)
            .where('issuer_assigned_id_lower', '=', email.trim().toLowerCase())
            .where('sign_in_type', '=', 'emailAddress'),
        )
        .where('u.user_type', '=', 'Guest')
        .where('u.external_user_state', '=', 'Accepted')
        .where('u.account_enabled', '=', 1)
        .where('u.deleted_at', 'is', null)
        .executeTakeFirst();
    },

    /** Sends a sign-in code when the address belongs to an accepted guest; says nothing either way. */
    async sendSignInCode(tenantId: string, email: string, ip: string, lang: Language): Promise<void> {
      const user = await this.guestForSignIn(tenantId, email);
      if (!user) {
        // Same limits for unknown addresses, so probing costs the same: the per-address one too, or a
        // sixth request would answer 429 only for addresses that belong to a guest.
        await db.transaction().execute(async (trx) => {
          await hitRateLimit(trx, clock, { bucket: `otp:address:${email.trim().toLowerCase()}`, limit: CODES_PER_ADDRESS, windowSeconds: CODE_WINDOW_SECONDS });
          await hitRateLimit(trx, clock, { bucket: `otp:ip:${ip}`, limit: CODES_PER_IP, windowSeconds: CODE_WINDOW_SECONDS });
        });
        return;
      }
      // To the address as the guest redeemed with it, not as typed now.
      const identity = (JSON.parse(user.identities) as { issuerAssignedId: string }[]).find(
        (i) => i.issuerAssignedId.toLowerCase() === email.trim().toLowerCase(),
      );
      await sendCode(user, (await findTenant(db, tenantId))!, identity?.issuerAssignedId ?? email.trim(), ip, lang);
    },

    async signInWithCode(tenantId: string, email: string, code: string): Promise<CodeCheck & { sessionToken?: string }> {
      const user = await this.guestForSignIn(tenantId, email);
      if (!user) return { ok: false, reason: 'none' };
      const check = await codes.verify(db, user.id, code);
      if (!check.ok) return check;
      return { ok: true, sessionToken: (await auth.startSession(tenantId, user.id)).sessionToken };
    },

    /** "Block future invitations": the address is refused from now on, and its pending invitations end. */
    async block(found: Extract<LinkLookup, { ok: true }>): Promise<void> {
      const { invitation, user } = found;
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const added = await trx
          .insertInto('blocked_invitees')
          .values({ tenant_id: invitation.tenant_id, email_lower: invitation.invited_email_lower, created_at: now })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        // The person the invitation was sent to acts, as when redeeming it.
        if (Number(added.numInsertedOrUpdatedRows ?? 0) > 0)
          await recordAudit(
            trx,
            guestActor(user),
            {
              activity: 'Block future invitations',
              category: 'UserManagement',
              operationType: 'Add',
              targets: [
                blockedInviteeTarget(invitation.invited_email_lower),
                { id: user.id, displayName: user.display_name, type: 'User', userPrincipalName: user.user_principal_name },
              ],
            },
            `block-${invitation.id}`,
            now,
          );
        await trx
          .updateTable('invitations')
          .set({ status: 'Revoked', revoked_at: now })
          .where('tenant_id', '=', invitation.tenant_id)
          .where('invited_email_lower', '=', invitation.invited_email_lower)
          .where('status', '=', 'PendingAcceptance')
          .execute();
      });
    },

    /** What a signed-in person can reach: the organization and their groups. */
    async myAccess(actor: Extract<Actor, { kind: 'user' }>) {
      const tenant = (await findTenant(db, actor.tenantId))!;
      const user = await db
        .selectFrom('users')
        .select(['display_name', 'mail', 'user_principal_name'])
        .where('id', '=', actor.userId)
        .executeTakeFirstOrThrow();
      const groups = await db
        .selectFrom('group_memberships as m')
        .innerJoin('groups as g', 'g.id', 'm.group_id')
        .select(['g.id', 'g.display_name', 'g.description'])
        .where('m.user_id', '=', actor.userId)
        .where('m.relation', '=', 'member')
        .where('g.deleted_at', 'is', null)
        .orderBy('g.display_name_lower')
        .execute();
      return { tenant, user, groups };
    },

    /** A guest leaves: soft delete (restorable by an administrator for 30 days), sessions end. */
    async leave(actor: Extract<Actor, { kind: 'user' }>): Promise<void> {
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const user = await trx.selectFrom('users').selectAll().where('id', '=', actor.userId).where('deleted_at', 'is', null).executeTakeFirst();
        if (!user || user.user_type !== 'Guest') return;
        await trx.updateTable('users').set({ deleted_at: now }).where('id', '=', user.id).execute();
        await trx.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', user.id).where('revoked_at', 'is', null).execute();
        await recordAudit(
          trx,
          actor,
          {
            activity: 'Delete external user',
            category: 'UserManagement',
            operationType: 'Delete',
            targets: [{ id: user.id, displayName: user.display_name, type: 'User', userPrincipalName: user.user_principal_name }],
            resultReason: 'The guest left the organization.',
          },
          `leave-${user.id}`,
          now,
        );
      });
    },
  };
}
export type RedemptionService = ReturnType<typeof createRedemptionService>;

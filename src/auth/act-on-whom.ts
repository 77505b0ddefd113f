import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { forbidden } from '../graph/errors.js';
import { directoryRoles, type Actor } from './permissions.js';

/**
 * The sensitive actions one person or API client takes on another user. Which targets an actor
 * may take them on depends on the directory roles the target holds (Entra: "Who can reset
 * passwords" and "Who can perform sensitive actions").
 */
export type SensitiveAction =
  /** Set `passwordProfile`. */
  | 'password'
  /** Reset redemption: the user redeems a new invitation (and signs in with codes to its address). */
  | 'redemption'
  /** Block or unblock sign-in (`accountEnabled`). */
  | 'block'
  /** Change where the user signs in or gets codes: userPrincipalName, mail, otherMails, identities, phones. */
  | 'signInNames'
  /** Change any other property. */
  | 'update'
  | 'delete'
  | 'restore'
  | 'purge';

export const sensitiveActions: readonly SensitiveAction[] = ['password', 'redemption', 'block', 'signInNames', 'update', 'delete', 'restore', 'purge'];

const {
  globalAdministrator: { id: GA },
  userAdministrator: { id: UA },
  helpdeskAdministrator: { id: HA },
  guestInviter: { id: GI },
  applicationAdministrator: { id: AA },
  cloudApplicationAdministrator: { id: CAA },
} = directoryRoles;

/** A target that holds no directory role: ordinary members and guests. */
const NO_ROLE = 'none';
type TargetRole = string;

/** Targets a password reset reaches, per actor role ("Who can reset passwords"). */
const passwordTargets: Record<string, readonly TargetRole[]> = {
  [HA]: [NO_ROLE, GI, HA],
  [UA]: [NO_ROLE, GI, HA, UA],
  [GA]: [NO_ROLE, GI, HA, UA, AA, CAA, GA],
};
/** Targets the sensitive actions reach, per actor role ("Who can perform sensitive actions"); Helpdesk Administrators take none. */
const sensitiveTargets: Record<string, readonly TargetRole[]> = {
  [UA]: [NO_ROLE, GI, HA, UA],
  [GA]: [NO_ROLE, GI, HA, UA, AA, CAA, GA],
};

/**
 * The one table: for each action, the roles a person needs and the target roles each of them
 * reaches. A person holding several roles may act when any of them allows it; a target holding
 * several roles only when every one of them is reachable. Application Administrators, Cloud
 * Application Administrators and Guest Inviters change no users.
 */
const actOnWhom: Record<SensitiveAction, Record<string, readonly TargetRole[]>> = {
  password: passwordTargets,
  // Entra names Helpdesk Administrator (least privileged) and User Administrator; a target holding
  // a role needs the rights a reset of its password would need.
  redemption: passwordTargets,
  block: sensitiveTargets,
  signInNames: sensitiveTargets,
  delete: sensitiveTargets,
  restore: sensitiveTargets,
  purge: sensitiveTargets,
  // Properties outside Entra's sensitive list: a User Administrator changes every user's but a
  // Global Administrator's (a Global Administrator is changed only by another).
  update: { [UA]: [NO_ROLE, GI, HA, UA, AA, CAA], [GA]: [NO_ROLE, GI, HA, UA, AA, CAA, GA] },
};

/**
 * API clients hold no directory role, so, as in Entra for app-only calls, they take sensitive
 * actions only on users who hold none: a client that could reset an administrator's password
 * or redemption could sign in as them and gain what no application permission grants.
 */
const appTargets: readonly TargetRole[] = [NO_ROLE];

/** Whether the actor may take the action on a user holding `targetRoles` (the permission to the action itself is checked apart). */
export function mayActOn(actor: Actor, action: SensitiveAction, targetRoles: ReadonlySet<string>): boolean {
  const held = targetRoles.size ? [...targetRoles] : [NO_ROLE];
  const reaches = (allowed: readonly TargetRole[]) => held.every((r) => allowed.includes(r));
  if (actor.kind === 'app') return reaches(appTargets);
  return Object.entries(actOnWhom[action]).some(([role, allowed]) => actor.roles.has(role) && reaches(allowed));
}

/** The directory roles a user holds (kept while the user is deleted, so restore and purge see them too). */
export async function rolesOf(db: Kysely<Database>, userId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('role_assignments').select('role_template_id').where('user_id', '=', userId).execute();
  return new Set(rows.map((r) => r.role_template_id));
}

/**
 * Throws 403 unless the actor may take every one of `actions` on the user `targetId`. Run it in
 * the transaction of the change, so a role assigned meanwhile is seen.
 */
export async function requireMayActOn(db: Kysely<Database>, actor: Actor, actions: readonly SensitiveAction[], targetId: string): Promise<void> {
  const roles = await rolesOf(db, targetId);
  const refused = actions.find((a) => !mayActOn(actor, a, roles));
  if (refused)
    throw forbidden(
      roles.size
        ? 'Insufficient privileges to complete the operation: the target user holds an administrator role that your roles or permissions cannot manage.'
        : 'Insufficient privileges to complete the operation.',
    );
}

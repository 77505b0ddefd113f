import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryRoles } from '../src/auth/permissions.js';
import { buildUserRow } from '../src/directory/user-row.js';
import { insertUser } from '../src/directory/users.repository.js';
import {
  MEMBER_PASSWORD,
  call,
  createGuest,
  createMember,
  createTestApp,
  expectGraphError,
  testEngine,
  type Caller,
  type TestApp,
} from './helpers/test-app.js';

/**
 * Who may act on whom: every actor × every sensitive action × a target holding each directory
 * role, with the answer Entra gives ("Who can reset passwords", "Who can perform sensitive
 * actions", reset redemption), and the target left as it was whenever the answer is a refusal.
 * The expectations are written out here from Entra's tables, not read from Foyer's.
 */

const {
  globalAdministrator: { id: GA },
  userAdministrator: { id: UA },
  helpdeskAdministrator: { id: HA },
  guestInviter: { id: GI },
  applicationAdministrator: { id: AA },
  cloudApplicationAdministrator: { id: CAA },
} = directoryRoles;

const targets = [
  'member',
  'guest',
  'Guest Inviter',
  'Helpdesk Administrator',
  'User Administrator',
  'Application Administrator',
  'Cloud Application Administrator',
  'Global Administrator',
] as const;
type Target = (typeof targets)[number];
const roleOf: Record<Target, string | null> = {
  member: null,
  guest: null,
  'Guest Inviter': GI,
  'Helpdesk Administrator': HA,
  'User Administrator': UA,
  'Application Administrator': AA,
  'Cloud Application Administrator': CAA,
  'Global Administrator': GA,
};

const actors = [
  'Global Administrator',
  'User Administrator',
  'Helpdesk Administrator',
  'Guest Inviter',
  'Application Administrator',
  'Cloud Application Administrator',
  'member',
  'guest',
  'User.ReadWrite.All client',
  'Directory.ReadWrite.All client',
] as const;
type ActorName = (typeof actors)[number];

const actions = ['password', 'redemption', 'block', 'userPrincipalName', 'mail', 'otherMails', 'displayName', 'delete', 'restore', 'purge'] as const;
type Action = (typeof actions)[number];

const everyone: readonly Target[] = targets;
const noRole: readonly Target[] = ['member', 'guest'];
/** Entra, "Who can reset passwords": the columns of the roles Foyer has. */
const resetPassword: Partial<Record<ActorName, readonly Target[]>> = {
  'Global Administrator': everyone,
  'User Administrator': ['member', 'guest', 'Guest Inviter', 'Helpdesk Administrator', 'User Administrator'],
  'Helpdesk Administrator': ['member', 'guest', 'Guest Inviter', 'Helpdesk Administrator'],
  'User.ReadWrite.All client': noRole,
  'Directory.ReadWrite.All client': noRole,
};
/** Entra, "Who can perform sensitive actions" (block sign-in, sign-in names and addresses, delete, restore). */
const sensitive: Partial<Record<ActorName, readonly Target[]>> = {
  'Global Administrator': everyone,
  'User Administrator': ['member', 'guest', 'Guest Inviter', 'Helpdesk Administrator', 'User Administrator'],
  'User.ReadWrite.All client': noRole,
  'Directory.ReadWrite.All client': noRole,
};
/** What each actor reaches, per action; everything else is refused with 403. */
const reaches: Record<Action, Partial<Record<ActorName, readonly Target[]>>> = {
  password: resetPassword,
  // Helpdesk Administrator is the least privileged role for a reset; a role holder needs what a password reset of it would.
  redemption: resetPassword,
  block: sensitive,
  userPrincipalName: sensitive,
  mail: sensitive,
  otherMails: sensitive,
  // Other properties: a User Administrator changes everyone but a Global Administrator; API clients only users without a role.
  displayName: { ...sensitive, 'User Administrator': targets.filter((x) => x !== 'Global Administrator') },
  delete: sensitive,
  restore: sensitive,
  purge: sensitive,
};
const successStatus: Record<Action, number> = {
  password: 204,
  redemption: 201,
  block: 204,
  userPrincipalName: 204,
  mail: 204,
  otherMails: 204,
  displayName: 204,
  delete: 204,
  restore: 200,
  purge: 204,
};

describe(`who may act on whom (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  const callers = new Map<ActorName, Caller>();
  let n = 0;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    const assign = async (roleId: string, userId: string) => {
      const res = await call(t, admin, {
        method: 'POST',
        url: `/v1.0/directoryRoles/${roleId}/members/$ref`,
        payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${userId}` },
      });
      expect(res.statusCode).toBe(204);
    };
    const roleHolders: [ActorName, string | null][] = [
      ['Global Administrator', GA],
      ['User Administrator', UA],
      ['Helpdesk Administrator', HA],
      ['Guest Inviter', GI],
      ['Application Administrator', AA],
      ['Cloud Application Administrator', CAA],
      ['member', null],
    ];
    for (const [name, role] of roleHolders) {
      const id = await createMember(t, admin, `Actor ${name}`);
      if (role) await assign(role, id);
      const nick = `actor${name.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
      callers.set(name, { session: await t.signIn(`${nick}@contoso.test`, MEMBER_PASSWORD) });
    }
    await createGuest(t, admin, 'actor.guest@fabrikam.test');
    callers.set('guest', { session: await t.signIn('actor.guest_fabrikam.test#EXT#@contoso.test', MEMBER_PASSWORD) });
    callers.set('User.ReadWrite.All client', { token: await t.clientToken(['User.ReadWrite.All']) });
    callers.set('Directory.ReadWrite.All client', { token: await t.clientToken(['Directory.ReadWrite.All']) });
  });
  afterAll(() => t.close());

  /**
   * A new target holding the role; an external user (an invited guest) where the action is a
   * redemption reset, which is for external users only; deleted where it is a restore or purge.
   */
  async function freshTarget(target: Target, action: Action): Promise<{ id: string; mail: string }> {
    const i = ++n;
    const external = target === 'guest' || action === 'redemption';
    const mail = external ? `target${i}@fabrikam.test` : `target${i}@contoso.test`;
    const upn = external ? `target${i}_fabrikam.test#EXT#@contoso.test` : mail;
    const row = buildUserRow(
      {
        tenantId: t.tenant.id,
        displayName: `Target ${i}`,
        userPrincipalName: upn,
        mailNickname: `target${i}`,
        userType: external ? 'Guest' : 'Member',
        createdAt: t.clock.now().toISOString(),
        mail,
        identities: [],
      },
      external ? { creation_type: 'Invitation', external_user_state: 'Accepted' } : {},
    );
    await insertUser(t.database.db, row);
    const role = roleOf[target];
    if (role)
      await t.database.db
        .insertInto('role_assignments')
        .values({ tenant_id: t.tenant.id, user_id: row.id, role_template_id: role, created_at: row.created_at })
        .execute();
    if (action === 'restore' || action === 'purge')
      await t.database.db.updateTable('users').set({ deleted_at: t.clock.now().toISOString() }).where('id', '=', row.id).execute();
    return { id: row.id, mail };
  }

  const request = (action: Action, target: { id: string; mail: string }) => {
    const patch = (payload: Record<string, unknown>) => ({ method: 'PATCH', url: `/v1.0/users/${target.id}`, payload });
    switch (action) {
      case 'password':
        return patch({ passwordProfile: { password: 'Takeover-Passw0rd!' } });
      case 'block':
        return patch({ accountEnabled: false });
      case 'userPrincipalName':
        return patch({ userPrincipalName: `renamed${++n}@contoso.test` });
      case 'mail':
        return patch({ mail: `attacker${++n}@evil.test` });
      case 'otherMails':
        return patch({ otherMails: [`attacker${++n}@evil.test`] });
      case 'displayName':
        return patch({ displayName: 'Renamed' });
      case 'redemption':
        return {
          method: 'POST',
          url: '/v1.0/invitations',
          payload: {
            invitedUserEmailAddress: target.mail,
            inviteRedirectUrl: 'https://apps.contoso.test',
            resetRedemption: true,
            invitedUser: { id: target.id },
          },
        };
      case 'delete':
        return { method: 'DELETE', url: `/v1.0/users/${target.id}` };
      case 'restore':
        return { method: 'POST', url: `/v1.0/directory/deletedItems/${target.id}/restore` };
      case 'purge':
        return { method: 'DELETE', url: `/v1.0/directory/deletedItems/${target.id}` };
    }
  };

  /** Everything a sensitive action could change about the target. */
  async function stateOf(id: string) {
    const user = await t.database.db
      .selectFrom('users')
      .select(['password_hash', 'account_enabled', 'user_principal_name', 'mail', 'other_mails', 'display_name', 'deleted_at', 'external_user_state'])
      .where('id', '=', id)
      .executeTakeFirst();
    const invitations = await t.database.db
      .selectFrom('invitations')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', id)
      .executeTakeFirstOrThrow();
    return { user, invitations: Number(invitations.n) };
  }

  for (const action of actions)
    describe(action, () => {
      for (const actor of actors) {
        const allowed = reaches[action][actor] ?? [];
        it(`${actor}: ${allowed.length ? `allowed on ${allowed.join(', ')}` : 'refused on everyone'}`, async () => {
          const outcomes: string[] = [];
          for (const target of targets) {
            const victim = await freshTarget(target, action);
            const before = await stateOf(victim.id);
            const res = await call(t, callers.get(actor)!, request(action, victim) as Parameters<typeof call>[2]);
            const expected = allowed.includes(target) ? successStatus[action] : 403;
            if (res.statusCode !== expected) outcomes.push(`${target}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 160)}`);
            else if (expected === 403) {
              expectGraphError(res, 403, 'Authorization_RequestDenied');
              const after = await stateOf(victim.id);
              if (JSON.stringify(after) !== JSON.stringify(before))
                outcomes.push(`${target}: refused, but changed ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
            }
          }
          expect(outcomes).toEqual([]);
        });
      }
    });

  describe('the path from an application permission to a Global Administrator', () => {
    it('a Directory.ReadWrite.All client can neither reset an administrator’s redemption, nor give it an address of its own, nor read a code', async () => {
      const client = callers.get('Directory.ReadWrite.All client')!;
      const adminGuest = await freshTarget('Global Administrator', 'redemption');
      // An external Global Administrator: the reset that would send a redeem link is refused.
      expectGraphError(await call(t, client, request('redemption', adminGuest) as Parameters<typeof call>[2]), 403, 'Authorization_RequestDenied');
      // The bootstrap administrator is a member: redemption is not how members sign in.
      const member = await call(t, client, {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: {
          invitedUserEmailAddress: 'admin@contoso.test',
          inviteRedirectUrl: 'https://apps.contoso.test',
          resetRedemption: true,
          invitedUser: { id: t.admin.id },
        },
      });
      expect(member.statusCode).toBe(403);
      // Nor can it point the administrator's addresses at itself first.
      expectGraphError(
        await call(t, client, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload: { otherMails: ['attacker@evil.test'] } }),
        403,
        'Authorization_RequestDenied',
      );
      // And the outbox, where codes and links would be, is closed to every application permission.
      expectGraphError(await call(t, client, { method: 'GET', url: '/v1.0/foyer/outbox' }), 403, 'Authorization_RequestDenied');
      expect(await t.database.db.selectFrom('invitations').select('id').where('user_id', 'in', [adminGuest.id, t.admin.id]).execute()).toEqual([]);
    });

    it('redemption is reset only for external users, even by a Global Administrator', async () => {
      const memberTarget = await freshTarget('member', 'password');
      expectGraphError(
        await call(t, admin, {
          method: 'POST',
          url: '/v1.0/invitations',
          payload: {
            invitedUserEmailAddress: memberTarget.mail,
            inviteRedirectUrl: 'https://apps.contoso.test',
            resetRedemption: true,
            invitedUser: { id: memberTarget.id },
          },
        }),
        400,
        'Request_BadRequest',
        /only for external users/,
      );
    });

    it('a role assigned to the target is what counts, not the role it had when the request began', async () => {
      const target = await freshTarget('member', 'password');
      const ua = callers.get('User Administrator')!;
      expect((await call(t, ua, request('password', target) as Parameters<typeof call>[2])).statusCode).toBe(204);
      await t.database.db
        .insertInto('role_assignments')
        .values({ tenant_id: t.tenant.id, user_id: target.id, role_template_id: AA, created_at: t.clock.now().toISOString() })
        .execute();
      expectGraphError(await call(t, ua, request('password', target) as Parameters<typeof call>[2]), 403, 'Authorization_RequestDenied');
    });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { applicationPermissions, directoryRoles, guestAccessLevels, type ApplicationPermission } from '../src/auth/permissions.js';
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
 * The authorization matrix: every kind of caller against every directory endpoint, with the exact
 * status (and Graph error code when refused). People are signed in with sessions; API clients are
 * tried with each application permission on its own, and with none.
 */

const GA = directoryRoles.globalAdministrator.id;
const UA = directoryRoles.userAdministrator.id;
const GI = directoryRoles.guestInviter.id;
const HA = directoryRoles.helpdeskAdministrator.id;

const people = [
  'Global Administrator',
  'User Administrator',
  'Guest Inviter',
  'Helpdesk Administrator',
  'member',
  'member who owns the group',
  'guest (same as members)',
  'guest (limited)',
  'guest (restricted)',
  'anonymous',
] as const;
type Person = (typeof people)[number];
/** Expected statuses, one per person in the order of `people`. */
type Statuses = readonly [number, number, number, number, number, number, number, number, number, number];

const guestLevel: Partial<Record<Person, string>> = {
  'guest (same as members)': guestAccessLevels.sameAsMembers,
  'guest (limited)': guestAccessLevels.limited,
  'guest (restricted)': guestAccessLevels.restricted,
};

const errorCode: Record<number, string> = {
  400: 'Request_BadRequest',
  401: 'Authentication_MissingOrMalformed',
  403: 'Authorization_RequestDenied',
  404: 'Request_ResourceNotFound',
};

const USERS_READ: ApplicationPermission[] = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const USERS_WRITE: ApplicationPermission[] = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const GROUPS_READ: ApplicationPermission[] = ['Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GROUPS_WRITE: ApplicationPermission[] = ['Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const DIRECTORY_READ: ApplicationPermission[] = ['Directory.Read.All', 'Directory.ReadWrite.All'];
const APPS_READ: ApplicationPermission[] = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const APPS_WRITE: ApplicationPermission[] = ['Application.ReadWrite.All'];
const ASSIGNMENTS_READ: ApplicationPermission[] = [...APPS_READ, 'AppRoleAssignment.ReadWrite.All'];
const ASSIGNMENTS_WRITE: ApplicationPermission[] = ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'];
const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';

interface Request {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** What the rows point at; built once in beforeAll. */
interface Fixtures {
  ids: Record<'member' | 'owner' | 'guest' | 'teammate' | 'outsider' | 'victim' | 'ghost', string>;
  outsiderUpn: string;
  groups: Record<'team' | 'other' | 'ghost', string>;
  auditId: string;
  /** A new member that nobody signs in as (inserted directly: no password to hash). */
  freshUser(): Promise<string>;
  freshDeletedUser(): Promise<string>;
  freshGroup(binds?: { members?: string[]; owners?: string[] }): Promise<string>;
  freshDeletedGroup(): Promise<string>;
  assignRole(roleId: string, userId: string): Promise<void>;
  /** An application with a service principal (assignment required), the teammate assigned to it. */
  app: { id: string; appId: string; spId: string; assignmentId: string };
  freshApp(): Promise<{ id: string; appId: string }>;
  freshSp(): Promise<string>;
  freshAssignment(): Promise<{ spId: string; id: string }>;
}

interface Row {
  endpoint: string;
  /** Expected status for each person, in the order of `people`. */
  people: Statuses;
  /** The application permissions that allow the call; any other permission (or none) gets `appDenied`. */
  grants: readonly ApplicationPermission[];
  /** Status for an API client holding one of `grants`; defaults to the Global Administrator's. */
  appAllowed?: number;
  appDenied?: number;
  /** Builds the request. `succeeds` says whether a 2xx is expected, so the call may consume a fresh target. */
  request(f: Fixtures, succeeds: boolean): Promise<Request> | Request;
  /** Extra checks on a successful answer. */
  check?(res: LightMyRequestResponse, f: Fixtures): void;
}

const ref = (id: string) => ({ '@odata.id': `http://foyer.test/v1.0/directoryObjects/${id}` });
const bind = (ids: string[]) => ids.map((id) => `http://foyer.test/v1.0/directoryObjects/${id}`);
const idOf = (res: LightMyRequestResponse) => (res.json() as { id: string }).id;
const idsIn = (res: LightMyRequestResponse) => (res.json() as { value: { id: string }[] }).value.map((v) => v.id);

let counter = 0;
const next = () => ++counter;

// Columns: GA, UA, Guest Inviter, Helpdesk, member, member-owner, guest same-as-members, limited, restricted, anonymous.
const everyoneReads: Statuses = [200, 200, 200, 200, 200, 200, 200, 200, 200, 401];
const membersRead: Statuses = [200, 200, 200, 200, 200, 200, 200, 403, 403, 401];
const teamVisible: Statuses = [200, 200, 200, 200, 200, 200, 200, 200, 404, 401];
const hiddenFromGuests: Statuses = [200, 200, 200, 200, 200, 200, 200, 404, 404, 401];
const membersOnly: Statuses = [200, 200, 200, 200, 200, 200, 403, 403, 403, 401];
const userAdmins = (ok: number): Statuses => [ok, ok, 403, 403, 403, 403, 403, 403, 403, 401];
const groupManagers = (ok: number): Statuses => [ok, ok, 403, 403, 403, ok, 403, 403, 403, 401];
const globalAdminOnly = (ok: number): Statuses => [ok, 403, 403, 403, 403, 403, 403, 403, 403, 401];

const rows: Row[] = [
  // Users
  { endpoint: 'GET /users', people: membersRead, grants: USERS_READ, request: () => ({ method: 'GET', url: '/v1.0/users' }) },
  {
    endpoint: 'GET /users/$count',
    people: membersRead,
    grants: USERS_READ,
    request: () => ({ method: 'GET', url: '/v1.0/users/$count', headers: { consistencylevel: 'eventual' } }),
    check: (res) => expect(Number(res.body)).toBeGreaterThanOrEqual(8),
  },
  {
    endpoint: 'GET /users/{someone in the guest’s group}',
    people: teamVisible,
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.teammate}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.ids.teammate),
  },
  {
    endpoint: 'GET /users/{someone outside the guest’s groups}',
    people: hiddenFromGuests,
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.outsider}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.ids.outsider),
  },
  {
    endpoint: 'GET /users/{userPrincipalName outside the guest’s groups}',
    people: hiddenFromGuests,
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.outsiderUpn}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.ids.outsider),
  },
  {
    endpoint: 'GET /me',
    people: everyoneReads,
    grants: applicationPermissions,
    // Graph: "/me request is only valid with delegated authentication flow."
    appAllowed: 400,
    appDenied: 400,
    request: () => ({ method: 'GET', url: '/v1.0/me' }),
  },
  {
    endpoint: 'GET /me/memberOf',
    people: everyoneReads,
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: () => ({ method: 'GET', url: '/v1.0/me/memberOf' }),
  },
  {
    endpoint: 'GET /users/{someone in the guest’s group}/memberOf',
    // A limited guest may read a group-mate, but not where else that person belongs.
    people: [200, 200, 200, 200, 200, 200, 200, 403, 404, 401],
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.teammate}/memberOf` }),
    check: (res, f) => expect(idsIn(res)).toEqual([f.groups.team]),
  },
  {
    endpoint: 'GET /users/{someone outside the guest’s groups}/memberOf',
    people: hiddenFromGuests,
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.outsider}/memberOf` }),
  },
  {
    endpoint: 'POST /users',
    people: userAdmins(201),
    grants: USERS_WRITE,
    request: () => {
      const n = next();
      return {
        method: 'POST',
        url: '/v1.0/users',
        payload: {
          accountEnabled: true,
          displayName: `Created ${n}`,
          mailNickname: `created${n}`,
          userPrincipalName: `created${n}@contoso.test`,
          passwordProfile: { password: MEMBER_PASSWORD },
        },
      };
    },
  },
  {
    endpoint: 'PATCH /users/{id}',
    people: userAdmins(204),
    grants: USERS_WRITE,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/users/${f.ids.victim}`, payload: { jobTitle: `Title ${next()}` } }),
  },
  {
    endpoint: 'DELETE /users/{id}',
    people: userAdmins(204),
    grants: USERS_WRITE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/users/${succeeds ? await f.freshUser() : f.ids.victim}` }),
  },

  // Deleted items
  {
    endpoint: 'GET /directory/deletedItems/microsoft.graph.user',
    people: membersOnly,
    grants: USERS_READ,
    request: () => ({ method: 'GET', url: '/v1.0/directory/deletedItems/microsoft.graph.user' }),
    check: (res, f) => expect(idsIn(res)).toContain(f.ids.ghost),
  },
  {
    endpoint: 'GET /directory/deletedItems/microsoft.graph.group',
    people: membersOnly,
    grants: GROUPS_READ,
    request: () => ({ method: 'GET', url: '/v1.0/directory/deletedItems/microsoft.graph.group' }),
    check: (res, f) => expect(idsIn(res)).toContain(f.groups.ghost),
  },
  {
    endpoint: 'GET /directory/deletedItems/{user}',
    people: membersOnly,
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/directory/deletedItems/${f.ids.ghost}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.ids.ghost),
  },
  {
    endpoint: 'GET /directory/deletedItems/{group}',
    people: membersOnly,
    grants: GROUPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/directory/deletedItems/${f.groups.ghost}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.groups.ghost),
  },
  {
    endpoint: 'POST /directory/deletedItems/{user}/restore',
    people: userAdmins(200),
    grants: USERS_WRITE,
    request: async (f, succeeds) => ({ method: 'POST', url: `/v1.0/directory/deletedItems/${succeeds ? await f.freshDeletedUser() : f.ids.ghost}/restore` }),
  },
  {
    endpoint: 'DELETE /directory/deletedItems/{user}',
    people: userAdmins(204),
    grants: USERS_WRITE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/directory/deletedItems/${succeeds ? await f.freshDeletedUser() : f.ids.ghost}` }),
  },
  {
    endpoint: 'POST /directory/deletedItems/{group}/restore',
    people: userAdmins(200),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => ({
      method: 'POST',
      url: `/v1.0/directory/deletedItems/${succeeds ? await f.freshDeletedGroup() : f.groups.ghost}/restore`,
    }),
  },
  {
    endpoint: 'DELETE /directory/deletedItems/{group}',
    people: userAdmins(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/directory/deletedItems/${succeeds ? await f.freshDeletedGroup() : f.groups.ghost}` }),
  },

  // Groups
  {
    endpoint: 'GET /groups',
    people: [200, 200, 200, 200, 200, 200, 200, 200, 403, 401],
    grants: GROUPS_READ,
    request: () => ({ method: 'GET', url: '/v1.0/groups' }),
  },
  {
    endpoint: 'GET /groups/{the guest’s group}',
    people: teamVisible,
    grants: GROUPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.groups.team}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.groups.team),
  },
  {
    endpoint: 'GET /groups/{another group}',
    people: hiddenFromGuests,
    grants: GROUPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.groups.other}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.groups.other),
  },
  {
    endpoint: 'POST /groups',
    people: userAdmins(201),
    grants: GROUPS_WRITE,
    request: () => {
      const n = next();
      return {
        method: 'POST',
        url: '/v1.0/groups',
        payload: { displayName: `Made ${n}`, mailNickname: `made${n}`, mailEnabled: false, securityEnabled: true },
      };
    },
  },
  {
    endpoint: 'PATCH /groups/{id} (properties)',
    people: userAdmins(204),
    grants: GROUPS_WRITE,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/groups/${f.groups.team}`, payload: { description: `Described ${next()}` } }),
  },
  {
    endpoint: 'DELETE /groups/{id}',
    people: userAdmins(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/groups/${succeeds ? await f.freshGroup({ owners: [f.ids.owner] }) : f.groups.team}` }),
  },
  {
    endpoint: 'GET /groups/{the guest’s group}/members',
    people: teamVisible,
    grants: GROUPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.groups.team}/members` }),
    check: (res, f) => expect(idsIn(res).sort()).toEqual([f.ids.member, f.ids.owner, f.ids.guest, f.ids.teammate].sort()),
  },
  {
    endpoint: 'GET /groups/{the guest’s group}/owners',
    people: teamVisible,
    grants: GROUPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.groups.team}/owners` }),
    check: (res, f) => expect(idsIn(res)).toEqual([f.ids.owner]),
  },
  {
    endpoint: 'GET /groups/{another group}/members',
    people: hiddenFromGuests,
    grants: GROUPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.groups.other}/members` }),
    check: (res, f) => expect(idsIn(res)).toEqual([f.ids.outsider]),
  },
  {
    endpoint: 'POST /groups/{id}/members/$ref',
    people: groupManagers(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => {
      const group = succeeds ? await f.freshGroup({ owners: [f.ids.owner] }) : f.groups.team;
      return { method: 'POST', url: `/v1.0/groups/${group}/members/$ref`, payload: ref(f.ids.outsider) };
    },
  },
  {
    endpoint: 'PATCH /groups/{id} (members@odata.bind)',
    people: groupManagers(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => {
      const group = succeeds ? await f.freshGroup({ owners: [f.ids.owner] }) : f.groups.team;
      return { method: 'PATCH', url: `/v1.0/groups/${group}`, payload: { 'members@odata.bind': bind([f.ids.outsider]) } };
    },
  },
  {
    endpoint: 'DELETE /groups/{id}/members/{userId}/$ref',
    people: groupManagers(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => {
      const group = succeeds ? await f.freshGroup({ owners: [f.ids.owner], members: [f.ids.outsider] }) : f.groups.team;
      return { method: 'DELETE', url: `/v1.0/groups/${group}/members/${succeeds ? f.ids.outsider : f.ids.teammate}/$ref` };
    },
  },
  {
    endpoint: 'POST /groups/{id}/owners/$ref',
    people: groupManagers(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => {
      const group = succeeds ? await f.freshGroup({ owners: [f.ids.owner] }) : f.groups.team;
      return { method: 'POST', url: `/v1.0/groups/${group}/owners/$ref`, payload: ref(f.ids.teammate) };
    },
  },
  {
    endpoint: 'DELETE /groups/{id}/owners/{userId}/$ref',
    people: groupManagers(204),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => {
      const group = succeeds ? await f.freshGroup({ owners: [f.ids.owner, f.ids.teammate] }) : f.groups.team;
      return { method: 'DELETE', url: `/v1.0/groups/${group}/owners/${succeeds ? f.ids.teammate : f.ids.owner}/$ref` };
    },
  },
  {
    endpoint: 'POST /groups/{id}/owners/$ref (a guest)',
    // Guests cannot own groups: whoever may manage owners gets 400, everyone else 403.
    people: groupManagers(400),
    grants: GROUPS_WRITE,
    request: (f) => ({ method: 'POST', url: `/v1.0/groups/${f.groups.team}/owners/$ref`, payload: ref(f.ids.guest) }),
  },

  // Directory roles
  { endpoint: 'GET /directoryRoles', people: membersOnly, grants: DIRECTORY_READ, request: () => ({ method: 'GET', url: '/v1.0/directoryRoles' }) },
  {
    endpoint: 'GET /directoryRoles/{id}',
    people: membersOnly,
    grants: DIRECTORY_READ,
    request: () => ({ method: 'GET', url: `/v1.0/directoryRoles/roleTemplateId=${UA}` }),
    check: (res) => expect(idOf(res)).toBe(UA),
  },
  {
    endpoint: 'GET /directoryRoles/{id}/members',
    people: membersOnly,
    grants: DIRECTORY_READ,
    request: () => ({ method: 'GET', url: `/v1.0/directoryRoles/${GA}/members` }),
  },
  {
    endpoint: 'POST /directoryRoles/{id}/members/$ref',
    people: globalAdminOnly(204),
    // Not even Directory.ReadWrite.All: only Global Administrators assign roles.
    grants: [],
    request: async (f, succeeds) => ({
      method: 'POST',
      url: `/v1.0/directoryRoles/${GI}/members/$ref`,
      payload: ref(succeeds ? await f.freshUser() : f.ids.victim),
    }),
  },
  {
    endpoint: 'DELETE /directoryRoles/{id}/members/{userId}/$ref',
    people: globalAdminOnly(204),
    grants: [],
    request: async (f) => {
      const holder = await f.freshUser();
      await f.assignRole(HA, holder);
      return { method: 'DELETE', url: `/v1.0/directoryRoles/${HA}/members/${holder}/$ref` };
    },
  },

  // Audit log
  {
    endpoint: 'GET /auditLogs/directoryAudits',
    people: globalAdminOnly(200),
    grants: ['AuditLog.Read.All'],
    request: () => ({ method: 'GET', url: '/v1.0/auditLogs/directoryAudits' }),
  },
  {
    endpoint: 'GET /auditLogs/directoryAudits/{id}',
    people: globalAdminOnly(200),
    grants: ['AuditLog.Read.All'],
    request: (f) => ({ method: 'GET', url: `/v1.0/auditLogs/directoryAudits/${f.auditId}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.auditId),
  },

  // Policy
  {
    endpoint: 'GET /policies/authorizationPolicy',
    people: membersOnly,
    grants: DIRECTORY_READ,
    request: () => ({ method: 'GET', url: '/v1.0/policies/authorizationPolicy' }),
  },
  {
    endpoint: 'PATCH /policies/authorizationPolicy',
    people: globalAdminOnly(204),
    grants: ['Directory.ReadWrite.All'],
    request: () => ({ method: 'PATCH', url: '/v1.0/policies/authorizationPolicy', payload: { allowInvitesFrom: 'everyone' } }),
  },

  // Applications, service principals and assignments
  { endpoint: 'GET /applications', people: membersOnly, grants: APPS_READ, request: () => ({ method: 'GET', url: '/v1.0/applications' }) },
  {
    endpoint: 'GET /applications/{id}',
    people: membersOnly,
    grants: APPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/applications/${f.app.id}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.app.id),
  },
  {
    endpoint: 'POST /applications',
    people: globalAdminOnly(201),
    grants: APPS_WRITE,
    request: () => ({ method: 'POST', url: '/v1.0/applications', payload: { displayName: `Registered ${next()}` } }),
  },
  {
    endpoint: 'PATCH /applications/{id}',
    people: globalAdminOnly(204),
    grants: APPS_WRITE,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/applications/${f.app.id}`, payload: { description: `Described ${next()}` } }),
  },
  {
    endpoint: 'DELETE /applications/{id}',
    people: globalAdminOnly(204),
    grants: APPS_WRITE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/applications/${succeeds ? (await f.freshApp()).id : f.app.id}` }),
  },
  {
    endpoint: 'POST /applications/{id}/addPassword',
    people: globalAdminOnly(200),
    grants: APPS_WRITE,
    request: (f) => ({ method: 'POST', url: `/v1.0/applications/${f.app.id}/addPassword`, payload: {} }),
  },
  { endpoint: 'GET /servicePrincipals', people: membersOnly, grants: APPS_READ, request: () => ({ method: 'GET', url: '/v1.0/servicePrincipals' }) },
  {
    endpoint: 'GET /servicePrincipals/{id}',
    people: membersOnly,
    grants: APPS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/servicePrincipals/${f.app.spId}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.app.spId),
  },
  {
    endpoint: 'POST /servicePrincipals',
    people: globalAdminOnly(201),
    grants: APPS_WRITE,
    request: async (f, succeeds) => ({
      method: 'POST',
      url: '/v1.0/servicePrincipals',
      payload: { appId: succeeds ? (await f.freshApp()).appId : f.app.appId },
    }),
  },
  {
    endpoint: 'PATCH /servicePrincipals/{id}',
    people: globalAdminOnly(204),
    grants: APPS_WRITE,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/servicePrincipals/${f.app.spId}`, payload: { appRoleAssignmentRequired: true } }),
  },
  {
    endpoint: 'DELETE /servicePrincipals/{id}',
    people: globalAdminOnly(204),
    grants: APPS_WRITE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/servicePrincipals/${succeeds ? await f.freshSp() : f.app.spId}` }),
  },
  {
    endpoint: 'GET /servicePrincipals/{id}/appRoleAssignedTo',
    people: membersOnly,
    grants: ASSIGNMENTS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/servicePrincipals/${f.app.spId}/appRoleAssignedTo` }),
    check: (res, f) => expect(idsIn(res)).toContain(f.app.assignmentId),
  },
  {
    endpoint: 'POST /servicePrincipals/{id}/appRoleAssignedTo',
    people: globalAdminOnly(201),
    grants: ASSIGNMENTS_WRITE,
    request: async (f, succeeds) => {
      const principalId = succeeds ? await f.freshUser() : f.ids.victim;
      return {
        method: 'POST',
        url: `/v1.0/servicePrincipals/${f.app.spId}/appRoleAssignedTo`,
        payload: { principalId, resourceId: f.app.spId, appRoleId: DEFAULT_ACCESS },
      };
    },
  },
  {
    endpoint: 'DELETE /servicePrincipals/{id}/appRoleAssignedTo/{id}',
    people: globalAdminOnly(204),
    grants: ASSIGNMENTS_WRITE,
    request: async (f, succeeds) => {
      const target = succeeds ? await f.freshAssignment() : { spId: f.app.spId, id: f.app.assignmentId };
      return { method: 'DELETE', url: `/v1.0/servicePrincipals/${target.spId}/appRoleAssignedTo/${target.id}` };
    },
  },
  {
    endpoint: 'GET /users/{someone in the guest’s group}/appRoleAssignments',
    // As memberOf: a limited guest may read a group-mate, not what that person can reach.
    people: [200, 200, 200, 200, 200, 200, 200, 403, 404, 401],
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.teammate}/appRoleAssignments` }),
    check: (res, f) => expect(idsIn(res)).toEqual([f.app.assignmentId]),
  },
  {
    endpoint: 'GET /me/foyer/apps',
    people: everyoneReads,
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: () => ({ method: 'GET', url: '/v1.0/me/foyer/apps' }),
  },
];

describe(`authorization matrix (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let fixtureClient: Caller;
  const sessions = new Map<Person, Caller>();
  const tokens = new Map<string, Caller>();
  const f = {} as Fixtures;

  const must = async (res: Promise<LightMyRequestResponse>, status: number) => {
    const r = await res;
    if (r.statusCode !== status) throw new Error(`fixture: expected ${status}, got ${r.statusCode} ${r.body}`);
    return r;
  };
  const setGuestLevel = (guestUserRoleId: string) =>
    must(call(t, admin, { method: 'PATCH', url: '/v1.0/policies/authorizationPolicy', payload: { guestUserRoleId } }), 204);

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    fixtureClient = { token: await t.clientToken(['Directory.ReadWrite.All']) };

    const insertMember = async (name: string) => {
      const nick = `${name.toLowerCase().replace(/[^a-z0-9]/g, '')}${next()}`;
      const row = buildUserRow({
        tenantId: t.tenant.id,
        displayName: name,
        userPrincipalName: `${nick}@contoso.test`,
        mailNickname: nick,
        userType: 'Member',
        createdAt: t.clock.now().toISOString(),
        identities: [],
      });
      await insertUser(t.database.db, row);
      return { id: row.id, upn: row.user_principal_name };
    };
    const deleteVia = async (url: string) => must(call(t, fixtureClient, { method: 'DELETE', url }), 204);
    f.freshUser = async () => (await insertMember('Fresh User')).id;
    f.freshDeletedUser = async () => {
      const id = await f.freshUser();
      await deleteVia(`/v1.0/users/${id}`);
      return id;
    };
    f.freshGroup = async (binds = {}) => {
      const n = next();
      const res = await must(
        call(t, fixtureClient, {
          method: 'POST',
          url: '/v1.0/groups',
          payload: {
            displayName: `Fixture ${n}`,
            mailNickname: `fixture${n}`,
            mailEnabled: false,
            securityEnabled: true,
            ...(binds.members ? { 'members@odata.bind': bind(binds.members) } : {}),
            ...(binds.owners ? { 'owners@odata.bind': bind(binds.owners) } : {}),
          },
        }),
        201,
      );
      return idOf(res);
    };
    f.freshDeletedGroup = async () => {
      const id = await f.freshGroup();
      await deleteVia(`/v1.0/groups/${id}`);
      return id;
    };
    f.assignRole = async (roleId, userId) => {
      await must(call(t, admin, { method: 'POST', url: `/v1.0/directoryRoles/${roleId}/members/$ref`, payload: ref(userId) }), 204);
    };

    // People who sign in are made through the API; targets that never sign in are inserted directly.
    const userAdmin = await createMember(t, admin, 'Uma Useradmin');
    const guestInviter = await createMember(t, admin, 'Gino Guestinviter');
    const helpdesk = await createMember(t, admin, 'Hanna Helpdesk');
    const member = await createMember(t, admin, 'Mia Member');
    const owner = await createMember(t, admin, 'Otto Owner');
    const guest = await createGuest(t, admin, 'gail@fabrikam.test', 'Gail Guest');
    await f.assignRole(UA, userAdmin);
    await f.assignRole(GI, guestInviter);
    await f.assignRole(HA, helpdesk);
    const teammate = await insertMember('Tara Teammate');
    const outsider = await insertMember('Oscar Outsider');
    const victim = await insertMember('Vic Victim');
    f.ids = { member, owner, guest, teammate: teammate.id, outsider: outsider.id, victim: victim.id, ghost: await f.freshDeletedUser() };
    f.outsiderUpn = outsider.upn;
    f.groups = {
      team: await f.freshGroup({ members: [member, owner, guest, teammate.id], owners: [owner] }),
      other: await f.freshGroup({ members: [outsider.id] }),
      ghost: await f.freshDeletedGroup(),
    };
    f.freshApp = async () => {
      const res = await must(call(t, admin, { method: 'POST', url: '/v1.0/applications', payload: { displayName: `Fixture app ${next()}` } }), 201);
      return { id: idOf(res), appId: (res.json() as { appId: string }).appId };
    };
    f.freshSp = async () =>
      idOf(await must(call(t, admin, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: (await f.freshApp()).appId } }), 201));
    const assignTo = async (spId: string, principalId: string) =>
      idOf(
        await must(
          call(t, admin, {
            method: 'POST',
            url: `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`,
            payload: { principalId, resourceId: spId, appRoleId: DEFAULT_ACCESS },
          }),
          201,
        ),
      );
    f.freshAssignment = async () => {
      const spId = f.app.spId;
      return { spId, id: await assignTo(spId, await f.freshUser()) };
    };
    const fixtureApp = await f.freshApp();
    const spId = await f.freshSp();
    // The fixture service principal belongs to its own application; the first is kept for the application rows.
    f.app = { ...fixtureApp, spId, assignmentId: await assignTo(spId, teammate.id) };
    f.app.appId = ((await must(call(t, admin, { method: 'GET', url: `/v1.0/servicePrincipals/${spId}` }), 200)).json() as { appId: string }).appId;

    const audits = await must(call(t, admin, { method: 'GET', url: '/v1.0/auditLogs/directoryAudits?$top=1' }), 200);
    f.auditId = idsIn(audits)[0]!;

    const signIn = async (upn: string) => ({ session: await t.signIn(upn, MEMBER_PASSWORD) });
    const guestSession = await signIn('gail@fabrikam.test');
    sessions.set('Global Administrator', admin);
    sessions.set('User Administrator', await signIn('umauseradmin@contoso.test'));
    sessions.set('Guest Inviter', await signIn('ginoguestinviter@contoso.test'));
    sessions.set('Helpdesk Administrator', await signIn('hannahelpdesk@contoso.test'));
    sessions.set('member', await signIn('miamember@contoso.test'));
    sessions.set('member who owns the group', await signIn('ottoowner@contoso.test'));
    for (const level of Object.keys(guestLevel) as Person[]) sessions.set(level, guestSession);
    sessions.set('anonymous', null);
  });
  afterAll(() => t?.close());

  const tokenFor = async (permissions: ApplicationPermission[]): Promise<Caller> => {
    const key = permissions.join(' ');
    if (!tokens.has(key)) tokens.set(key, { token: await t.clientToken(permissions) });
    return tokens.get(key)!;
  };

  async function expectAnswer(row: Row, caller: Caller, status: number) {
    const request = await row.request(f, status < 300);
    const res = await call(t, caller, request);
    if (status >= 400) expectGraphError(res, status, errorCode[status]!);
    else {
      expect(res.statusCode, res.body).toBe(status);
      row.check?.(res, f);
    }
  }

  for (const row of rows) {
    describe(row.endpoint, () => {
      people.forEach((person, i) => {
        const status = row.people[i]!;
        it(`${person} → ${status}`, async () => {
          const level = guestLevel[person];
          if (level) await setGuestLevel(level);
          await expectAnswer(row, sessions.get(person)!, status);
        });
      });
      for (const permission of [...applicationPermissions, null]) {
        const allowed = permission !== null && row.grants.includes(permission);
        const status = allowed ? (row.appAllowed ?? row.people[0]) : (row.appDenied ?? 403);
        it(`API client with ${permission ?? 'no permissions'} → ${status}`, async () => {
          await expectAnswer(row, await tokenFor(permission ? [permission] : []), status);
        });
      }
    });
  }

  describe('Global Administrators are protected', () => {
    let userAdmin: Caller;
    beforeAll(() => {
      userAdmin = sessions.get('User Administrator')!;
    });
    const jobTitleOf = async (id: string) =>
      (await must(call(t, admin, { method: 'GET', url: `/v1.0/users/${id}?$select=jobTitle,accountEnabled` }), 200)).json() as {
        jobTitle: string | null;
        accountEnabled: boolean;
      };

    it('a User Administrator cannot update or delete a Global Administrator (403), and nothing changes', async () => {
      expectGraphError(
        await call(t, userAdmin, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload: { jobTitle: 'Demoted' } }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await call(t, userAdmin, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload: { passwordProfile: { password: 'Taken-0ver!' } } }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(await call(t, userAdmin, { method: 'DELETE', url: `/v1.0/users/${t.admin.id}` }), 403, 'Authorization_RequestDenied');
      expect(await jobTitleOf(t.admin.id)).toEqual(expect.objectContaining({ jobTitle: null, accountEnabled: true }));
      // The admin's own session still works: no password change went through.
      expect((await call(t, admin, { method: 'GET', url: '/v1.0/me' })).statusCode).toBe(200);
    });

    it('an API client cannot update or delete a Global Administrator either (403), even with Directory.ReadWrite.All', async () => {
      // Otherwise a client could reset an administrator's password and sign in with every right apps are denied.
      for (const permission of USERS_WRITE) {
        const app = await tokenFor([permission]);
        for (const payload of [{ jobTitle: 'Demoted' }, { passwordProfile: { password: 'Taken-0ver!' } }, { accountEnabled: false }])
          expectGraphError(await call(t, app, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload }), 403, 'Authorization_RequestDenied');
        expectGraphError(await call(t, app, { method: 'DELETE', url: `/v1.0/users/${t.admin.id}` }), 403, 'Authorization_RequestDenied');
      }
      expect(await jobTitleOf(t.admin.id)).toEqual(expect.objectContaining({ jobTitle: null, accountEnabled: true }));
      expect((await call(t, admin, { method: 'GET', url: '/v1.0/me' })).statusCode).toBe(200);
    });

    it('a Global Administrator may update another one (204)', async () => {
      const second = await f.freshUser();
      await f.assignRole(GA, second);
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${second}`, payload: { jobTitle: 'Co-admin' } })).statusCode).toBe(204);
      expect((await jobTitleOf(second)).jobTitle).toBe('Co-admin');
      expectGraphError(await call(t, userAdmin, { method: 'DELETE', url: `/v1.0/users/${second}` }), 403, 'Authorization_RequestDenied');
      await must(call(t, admin, { method: 'DELETE', url: `/v1.0/directoryRoles/${GA}/members/${second}/$ref` }), 204);
    });

    it('a deleted Global Administrator cannot be restored or purged by a User Administrator or an API client (403), only by a Global Administrator', async () => {
      const second = await f.freshUser();
      await f.assignRole(GA, second);
      await must(call(t, admin, { method: 'DELETE', url: `/v1.0/users/${second}` }), 204);
      for (const caller of [userAdmin, await tokenFor(['User.ReadWrite.All']), await tokenFor(['Directory.ReadWrite.All'])]) {
        expectGraphError(await call(t, caller, { method: 'POST', url: `/v1.0/directory/deletedItems/${second}/restore` }), 403, 'Authorization_RequestDenied');
        expectGraphError(await call(t, caller, { method: 'DELETE', url: `/v1.0/directory/deletedItems/${second}` }), 403, 'Authorization_RequestDenied');
      }
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${second}` })).statusCode).toBe(200);
      expect((await call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${second}/restore` })).statusCode).toBe(200);
      await must(call(t, admin, { method: 'DELETE', url: `/v1.0/users/${second}` }), 204);
      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/directory/deletedItems/${second}` })).statusCode).toBe(204);
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${second}` }), 404, 'Request_ResourceNotFound');
    });

    it('the last Global Administrator cannot be deleted (400), and a deleted one does not count', async () => {
      const second = await f.freshUser();
      await f.assignRole(GA, second);
      await must(call(t, admin, { method: 'DELETE', url: `/v1.0/users/${second}` }), 204);
      expectGraphError(
        await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${t.admin.id}` }),
        400,
        'Request_BadRequest',
        'The last Global Administrator of the organization cannot be deleted.',
      );
      expect((await call(t, admin, { method: 'GET', url: '/v1.0/me' })).statusCode).toBe(200);
      const holders = await must(call(t, admin, { method: 'GET', url: `/v1.0/directoryRoles/${GA}/members` }), 200);
      expect(idsIn(holders)).toEqual([t.admin.id]);
    });
  });

  describe('guests never see users outside their groups', () => {
    let guest: Caller;
    beforeAll(() => {
      guest = sessions.get('guest (limited)')!;
    });
    const absent = randomUUID();
    /** The error as a caller sees it, with the id it quoted made neutral. */
    const seen = (res: LightMyRequestResponse, id: string) => {
      const error = (res.json() as { error: { code: string; message: string } }).error;
      return { status: res.statusCode, code: error.code, message: error.message.replace(id, '<id>') };
    };

    for (const level of ['limited', 'restricted'] as const) {
      it(`${level}: a hidden user answers exactly like an absent one (404)`, async () => {
        await setGuestLevel(guestAccessLevels[level]);
        for (const [hidden, missing] of [
          [f.ids.outsider, absent],
          [f.outsiderUpn, `nobody${next()}@contoso.test`],
        ] as const) {
          for (const suffix of ['', '/memberOf', '?$select=id,displayName']) {
            const a = await call(t, guest, { method: 'GET', url: `/v1.0/users/${hidden}${suffix}` });
            const b = await call(t, guest, { method: 'GET', url: `/v1.0/users/${missing}${suffix}` });
            expect(seen(a, hidden)).toEqual(seen(b, missing));
            expect(a.statusCode).toBe(404);
          }
        }
        // Nor can a guest tell a deleted user or another group from an absent one through other endpoints.
        for (const [hidden, missing, request] of [
          [f.ids.ghost, absent, (id: string) => ({ method: 'GET', url: `/v1.0/directory/deletedItems/${id}` })],
          [f.ids.ghost, absent, (id: string) => ({ method: 'POST', url: `/v1.0/directory/deletedItems/${id}/restore` })],
          [f.groups.other, absent, (id: string) => ({ method: 'GET', url: `/v1.0/groups/${id}/members` })],
          [f.groups.other, absent, (id: string) => ({ method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { description: 'x' } })],
          [f.groups.other, absent, (id: string) => ({ method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(f.ids.guest) })],
          [f.groups.other, absent, (id: string) => ({ method: 'DELETE', url: `/v1.0/groups/${id}/members/${f.ids.outsider}/$ref` })],
        ] as const) {
          const a = await call(t, guest, request(hidden));
          const b = await call(t, guest, request(missing));
          expect(seen(a, hidden), `${request(hidden).method} ${request(hidden).url}`).toEqual(seen(b, missing));
        }
      });
    }

    it('limited: sees only their own groups and those groups’ members', async () => {
      await setGuestLevel(guestAccessLevels.limited);
      expect(idsIn(await must(call(t, guest, { method: 'GET', url: '/v1.0/groups' }), 200))).toEqual([f.groups.team]);
      const members = idsIn(await must(call(t, guest, { method: 'GET', url: `/v1.0/groups/${f.groups.team}/members` }), 200));
      expect(members).not.toContain(f.ids.outsider);
      for (const id of members) expect((await call(t, guest, { method: 'GET', url: `/v1.0/users/${id}` })).statusCode).toBe(200);
      expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/users?$filter=id eq '${f.ids.outsider}'` }), 403, 'Authorization_RequestDenied');
    });

    it('restricted: only their own object', async () => {
      await setGuestLevel(guestAccessLevels.restricted);
      const me = await must(call(t, guest, { method: 'GET', url: '/v1.0/me' }), 200);
      expect(idOf(me)).toBe(f.ids.guest);
      expect(idOf(await must(call(t, guest, { method: 'GET', url: `/v1.0/users/${f.ids.guest}` }), 200))).toBe(f.ids.guest);
      expect(idsIn(await must(call(t, guest, { method: 'GET', url: '/v1.0/me/memberOf' }), 200))).toEqual([f.groups.team]);
      expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/users/${f.ids.teammate}` }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/groups/${f.groups.team}` }), 404, 'Request_ResourceNotFound');
    });

    it('same as members: sees everyone, like a member', async () => {
      await setGuestLevel(guestAccessLevels.sameAsMembers);
      const ids = idsIn(await must(call(t, guest, { method: 'GET', url: '/v1.0/users?$top=999' }), 200));
      expect(ids).toEqual(expect.arrayContaining([f.ids.outsider, f.ids.teammate, t.admin.id]));
      await setGuestLevel(guestAccessLevels.limited);
    });
  });

  describe('Application Administrators', () => {
    for (const role of [directoryRoles.applicationAdministrator, directoryRoles.cloudApplicationAdministrator])
      it(`a ${role.displayName} registers applications and assigns people, but cannot change users (403)`, async () => {
        const id = await createMember(t, admin, `Ada ${role.displayName.replace(/ /g, '')}`);
        await f.assignRole(role.id, id);
        const upn = `ada${role.displayName.toLowerCase().replace(/[^a-z]/g, '')}@contoso.test`;
        const caller = { session: await t.signIn(upn, MEMBER_PASSWORD) };
        const app = await call(t, caller, { method: 'POST', url: '/v1.0/applications', payload: { displayName: `By ${role.displayName}` } });
        expect(app.statusCode, app.body).toBe(201);
        const sp = await call(t, caller, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: app.json().appId } });
        expect(sp.statusCode).toBe(201);
        const assigned = await call(t, caller, {
          method: 'POST',
          url: `/v1.0/servicePrincipals/${idOf(sp)}/appRoleAssignedTo`,
          payload: { principalId: f.ids.guest, resourceId: idOf(sp), appRoleId: DEFAULT_ACCESS },
        });
        expect(assigned.statusCode).toBe(201);
        expectGraphError(
          await call(t, caller, { method: 'PATCH', url: `/v1.0/users/${f.ids.victim}`, payload: { jobTitle: 'x' } }),
          403,
          'Authorization_RequestDenied',
        );
      });
  });

  describe('group owners', () => {
    it('a member who owns one group cannot manage another (403)', async () => {
      const owner = sessions.get('member who owns the group')!;
      expectGraphError(
        await call(t, owner, { method: 'POST', url: `/v1.0/groups/${f.groups.other}/members/$ref`, payload: ref(f.ids.teammate) }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await call(t, owner, { method: 'DELETE', url: `/v1.0/groups/${f.groups.other}/members/${f.ids.outsider}/$ref` }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await call(t, owner, { method: 'POST', url: `/v1.0/groups/${f.groups.other}/owners/$ref`, payload: ref(f.ids.owner) }),
        403,
        'Authorization_RequestDenied',
      );
    });

    it('loses the right as soon as they stop owning the group', async () => {
      const owner = sessions.get('member who owns the group')!;
      const group = await f.freshGroup({ owners: [f.ids.owner, f.ids.teammate] });
      expect((await call(t, owner, { method: 'POST', url: `/v1.0/groups/${group}/members/$ref`, payload: ref(f.ids.outsider) })).statusCode).toBe(204);
      await must(call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${group}/owners/${f.ids.owner}/$ref` }), 204);
      expectGraphError(
        await call(t, owner, { method: 'DELETE', url: `/v1.0/groups/${group}/members/${f.ids.outsider}/$ref` }),
        403,
        'Authorization_RequestDenied',
      );
    });

    it('a guest member of a group cannot manage it, even when it is their group (403)', async () => {
      const guest = sessions.get('guest (same as members)')!;
      await setGuestLevel(guestAccessLevels.sameAsMembers);
      expectGraphError(
        await call(t, guest, { method: 'POST', url: `/v1.0/groups/${f.groups.team}/members/$ref`, payload: ref(f.ids.outsider) }),
        403,
        'Authorization_RequestDenied',
      );
      await setGuestLevel(guestAccessLevels.limited);
    });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { applicationPermissions, directoryRoles, guestAccessLevels, type ApplicationPermission } from '../src/auth/permissions.js';
import { buildUserRow } from '../src/directory/user-row.js';
import { insertUser } from '../src/directory/users.repository.js';
import { createClientsService } from '../src/auth/clients.service.js';
import {
  MEMBER_PASSWORD,
  TEST_SECRET,
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
const INVITE: ApplicationPermission[] = ['User.Invite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'];
const TEAMS_READ: ApplicationPermission[] = ['Team.Create', 'TeamMember.ReadWrite.All', 'Channel.Create', 'ChannelMessage.Read.All', ...GROUPS_READ];
const TEAMS_MANAGE: ApplicationPermission[] = ['TeamMember.ReadWrite.All', ...GROUPS_WRITE];
const SITES: ApplicationPermission[] = ['Sites.ReadWrite.All'];
const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';

interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** JSON, or the raw body of an upload (then with its content-type header). */
  payload?: Record<string, unknown> | string;
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
  /** A queued bulk invitation (no worker runs here, so it stays queued). */
  bulkId: string;
  freshBulk(): Promise<string>;
  /**
   * A team the group's owner owns, with the member and the guest in it; its General channel, a post
   * and a reply by the member, its library with a file, and a team meeting the owner organizes with
   * a chat message by the member. `other` is a team the guest is not in.
   */
  team: Record<'id' | 'other' | 'general' | 'message' | 'reply' | 'drive' | 'generalFolder' | 'file' | 'version' | 'meeting' | 'chatMessage', string>;
  freshUnifiedGroup(): Promise<string>;
  freshTeamMember(): Promise<string>;
  freshMessage(): Promise<string>;
  freshReply(): Promise<string>;
  freshChatMessage(): Promise<string>;
  freshFile(): Promise<string>;
  /** A site the group's owner owns, the member a member and the guest a visitor of it. */
  site: string;
  freshSiteMember(): Promise<string>;
  /** An API client nobody signs in as, and more of them to change or delete. */
  client: string;
  freshClient(): Promise<string>;
  /** An address blocked from invitations, and more to remove. */
  blockedEmail: string;
  freshBlockedEmail(): Promise<string>;
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
const bulkInviters = (ok: number): Statuses => [ok, ok, ok, 403, 403, 403, 403, 403, 403, 401];
const membersCreate = (ok: number): Statuses => [ok, ok, ok, ok, ok, ok, 403, 403, 403, 401];
// Teams, sites and meetings follow membership, not the guest access level: every guest column is the guest in the team.
// The administrators are not in the team: Global and User Administrators manage it, the others do not see inside it (404).
const inTeam = (ok: number): Statuses => [ok, ok, 404, 404, ok, ok, ok, ok, ok, 401];
const teamOwners = (ok: number): Statuses => [ok, ok, 404, 404, 403, ok, 403, 403, 403, 401];
/** Conversations belong to the team's people: administrators see the team, not its chat. */
const teamPeople = (ok: number): Statuses => [403, 403, 404, 404, ok, ok, ok, ok, ok, 401];
/** A post by the member: only its sender edits it. */
const postSender = (ok: number): Statuses => [403, 403, 404, 404, ok, 403, 403, 403, 403, 401];
/** A post by the member: its sender or a team owner deletes it. */
const postSenderOrOwner = (ok: number): Statuses => [403, 403, 404, 404, ok, ok, 403, 403, 403, 401];
/** Sites (and team libraries): Global Administrators reach every site; the guest reads (visitor, guest of the team). */
const siteReaders = (ok: number): Statuses => [ok, 404, 404, 404, ok, ok, ok, ok, ok, 401];
const siteWriters = (ok: number): Statuses => [ok, 404, 404, 404, ok, ok, 403, 403, 403, 401];
const siteOwners = (ok: number): Statuses => [ok, 404, 404, 404, 403, ok, 403, 403, 403, 401];
/** The team meeting: its organizer (the group's owner) and the team's people. */
const inMeeting = (ok: number): Statuses => [404, 404, 404, 404, ok, ok, ok, ok, ok, 401];
const organizerOnly = (ok: number): Statuses => [404, 404, 404, 404, 403, ok, 403, 403, 403, 401];
/** /users/{organizer}/onlineMeetings: a person names only themselves. */
const organizerPath = (ok: number): Statuses => [403, 403, 403, 403, 403, ok, 403, 403, 403, 401];
const chatSender = (ok: number): Statuses => [404, 404, 404, 404, ok, 403, 403, 403, 403, 401];

const bulkUpload = (query = ''): Request => ({
  method: 'POST',
  url: `/v1.0/foyer/bulkInvitations?redirectUrl=https://apps.contoso.test${query}`,
  headers: { 'content-type': 'text/csv' },
  payload: `email,displayName\r\nbulk${next()}@partner.test,Bulk Guest\r\n`,
});
const upload = (url: string): Request => ({ method: 'PUT', url, headers: { 'content-type': 'text/plain' }, payload: `Text ${next()}` });
const meetingBody = (f: Fixtures) => ({
  subject: `Meeting ${next()}`,
  startDateTime: '2026-11-02T10:00:00Z',
  endDateTime: '2026-11-02T11:00:00Z',
  participants: { attendees: [{ identity: { user: { id: f.ids.member } } }] },
});

/** A channel conversation (posts, or replies to a post): read, post, get, edit and delete, as the rows of the matrix. */
function conversationRows(name: string, base: (f: Fixtures) => string, target: (f: Fixtures) => string, fresh: (f: Fixtures) => Promise<string>): Row[] {
  const endpoint = `/teams/{id}/channels/{id}/${name}`;
  return [
    {
      endpoint: `GET ${endpoint}`,
      people: teamPeople(200),
      grants: ['ChannelMessage.Read.All'],
      appAllowed: 200,
      request: (f) => ({ method: 'GET', url: base(f) }),
    },
    {
      endpoint: `POST ${endpoint}`,
      people: teamPeople(201),
      grants: ['ChannelMessage.Send'],
      appAllowed: 201,
      request: (f) => ({ method: 'POST', url: base(f), payload: { body: { contentType: 'text', content: `Posted ${next()}` } } }),
    },
    {
      endpoint: `GET ${endpoint}/{id}`,
      people: teamPeople(200),
      grants: ['ChannelMessage.Read.All'],
      appAllowed: 200,
      request: (f) => ({ method: 'GET', url: `${base(f)}/${target(f)}` }),
      check: (res, f) => expect(idOf(res)).toBe(target(f)),
    },
    {
      endpoint: `PATCH ${endpoint}/{the member’s}`,
      people: postSender(204),
      // Only the sender edits: not even ChannelMessage.Send changes someone else's message.
      grants: [],
      request: (f) => ({ method: 'PATCH', url: `${base(f)}/${target(f)}`, payload: { body: { content: `Edited ${next()}` } } }),
    },
    {
      endpoint: `DELETE ${endpoint}/{the member’s}`,
      people: postSenderOrOwner(204),
      grants: [],
      request: async (f, succeeds) => ({ method: 'DELETE', url: `${base(f)}/${succeeds ? await fresh(f) : target(f)}` }),
    },
    {
      endpoint: `POST ${endpoint}/{the member’s}/softDelete`,
      people: postSenderOrOwner(204),
      grants: [],
      request: async (f, succeeds) => ({ method: 'POST', url: `${base(f)}/${succeeds ? await fresh(f) : target(f)}/softDelete` }),
    },
  ];
}

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

  // Bulk invitations: the uploaders of invitations only (Graph's invitation permissions for API clients).
  {
    endpoint: 'POST /foyer/bulkInvitations',
    people: bulkInviters(202),
    grants: INVITE,
    request: () => bulkUpload(),
    check: (res) => expect(res.headers.location).toMatch(/\/v1\.0\/foyer\/bulkInvitations\//),
  },
  {
    endpoint: 'POST /foyer/bulkInvitations?validateOnly=true',
    people: bulkInviters(200),
    grants: INVITE,
    request: () => bulkUpload('&validateOnly=true'),
    check: (res) => expect(res.json()).toEqual(expect.objectContaining({ total: 1, valid: 1 })),
  },
  {
    endpoint: 'GET /foyer/bulkInvitations',
    people: bulkInviters(200),
    grants: INVITE,
    request: () => ({ method: 'GET', url: '/v1.0/foyer/bulkInvitations' }),
    check: (res, f) => expect(idsIn(res)).toContain(f.bulkId),
  },
  {
    endpoint: 'GET /foyer/bulkInvitations/{id}',
    people: bulkInviters(200),
    grants: INVITE,
    request: (f) => ({ method: 'GET', url: `/v1.0/foyer/bulkInvitations/${f.bulkId}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.bulkId),
  },
  {
    endpoint: 'POST /foyer/bulkInvitations/{id}/cancel',
    people: bulkInviters(200),
    grants: INVITE,
    request: async (f, succeeds) => ({ method: 'POST', url: `/v1.0/foyer/bulkInvitations/${succeeds ? await f.freshBulk() : f.bulkId}/cancel` }),
  },
  {
    endpoint: 'GET /foyer/bulkInvitations/{id}/results',
    people: bulkInviters(200),
    grants: INVITE,
    request: (f) => ({ method: 'GET', url: `/v1.0/foyer/bulkInvitations/${f.bulkId}/results` }),
    check: (res) => expect(res.body).toContain('line,email,status'),
  },
  {
    endpoint: 'GET /foyer/bulkInvitations/template',
    people: bulkInviters(200),
    grants: INVITE,
    request: () => ({ method: 'GET', url: '/v1.0/foyer/bulkInvitations/template' }),
    check: (res) => expect(res.body).toMatch(/^version:v1\.0/),
  },

  // Collaboration settings
  {
    endpoint: 'GET /foyer/settings/collaboration',
    people: membersOnly,
    grants: DIRECTORY_READ,
    request: () => ({ method: 'GET', url: '/v1.0/foyer/settings/collaboration' }),
  },
  {
    endpoint: 'PATCH /foyer/settings/collaboration',
    people: globalAdminOnly(200),
    grants: ['Directory.ReadWrite.All'],
    request: () => ({ method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { anyoneLinkExpirationDays: 30 } }),
  },

  // Teams. The team: the group's owner owns it, the member and the guest are in it; the administrators are not.
  {
    endpoint: 'POST /teams',
    people: membersCreate(202),
    grants: ['Team.Create', ...GROUPS_WRITE],
    request: (f) => ({
      method: 'POST',
      url: '/v1.0/teams',
      // An API client names the owner; a person creating a team becomes an owner too.
      payload: {
        displayName: `Team ${next()}`,
        members: [{ roles: ['owner'], 'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${f.ids.owner}')` }],
      },
    }),
  },
  {
    endpoint: 'PUT /groups/{id}/team',
    // The group's owners and group administrators; Graph asks Group.ReadWrite.All of API clients.
    people: groupManagers(201),
    grants: GROUPS_WRITE,
    request: async (f, succeeds) => ({ method: 'PUT', url: `/v1.0/groups/${succeeds ? await f.freshUnifiedGroup() : f.team.id}/team`, payload: {} }),
  },
  {
    endpoint: 'GET /teams/{id}',
    // Members may read any team's profile, as any group's; guests only their own teams'.
    people: everyoneReads,
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/teams/${f.team.id}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.team.id),
  },
  {
    endpoint: 'GET /groups/{id}/team',
    people: everyoneReads,
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.team.id}/team` }),
    check: (res, f) => expect(idOf(res)).toBe(f.team.id),
  },
  {
    endpoint: 'GET /teams/{another team}',
    people: [200, 200, 200, 200, 200, 200, 404, 404, 404, 401],
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/teams/${f.team.other}` }),
  },
  {
    endpoint: 'PATCH /teams/{id}',
    people: teamOwners(204),
    grants: GROUPS_WRITE,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/teams/${f.team.id}`, payload: { description: `Described ${next()}` } }),
  },
  {
    endpoint: 'GET /me/joinedTeams',
    people: everyoneReads,
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: () => ({ method: 'GET', url: '/v1.0/me/joinedTeams' }),
  },
  {
    endpoint: 'GET /teams/{id}/members',
    people: inTeam(200),
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/teams/${f.team.id}/members` }),
    check: (res, f) => expect(idsIn(res)).toEqual(expect.arrayContaining([f.ids.member, f.ids.owner, f.ids.guest])),
  },
  {
    endpoint: 'POST /teams/{id}/members',
    people: teamOwners(201),
    grants: TEAMS_MANAGE,
    request: async (f, succeeds) => ({
      method: 'POST',
      url: `/v1.0/teams/${f.team.id}/members`,
      payload: { 'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${succeeds ? await f.freshUser() : f.ids.outsider}')` },
    }),
  },
  {
    endpoint: 'PATCH /teams/{id}/members/{userId}',
    people: teamOwners(200),
    grants: TEAMS_MANAGE,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/teams/${f.team.id}/members/${f.ids.member}`, payload: { roles: [] } }),
  },
  {
    endpoint: 'DELETE /teams/{id}/members/{userId}',
    people: teamOwners(204),
    grants: TEAMS_MANAGE,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/teams/${f.team.id}/members/${succeeds ? await f.freshTeamMember() : f.ids.member}` }),
  },
  {
    endpoint: 'GET /teams/{id}/channels',
    people: inTeam(200),
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/teams/${f.team.id}/channels` }),
    check: (res, f) => expect(idsIn(res)).toContain(f.team.general),
  },
  {
    endpoint: 'POST /teams/{id}/channels',
    // Teams' defaults: owners and members create channels, guests do not.
    people: [201, 201, 404, 404, 201, 201, 403, 403, 403, 401],
    grants: ['Channel.Create', ...GROUPS_WRITE],
    request: (f) => ({ method: 'POST', url: `/v1.0/teams/${f.team.id}/channels`, payload: { displayName: `Channel ${next()}` } }),
  },
  {
    endpoint: 'GET /teams/{id}/channels/{id}',
    people: inTeam(200),
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/teams/${f.team.id}/channels/${f.team.general}` }),
  },
  {
    endpoint: 'GET /teams/{id}/channels/{id}/filesFolder',
    people: inTeam(200),
    grants: TEAMS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/teams/${f.team.id}/channels/${f.team.general}/filesFolder` }),
    check: (res, f) => expect(idOf(res)).toBe(f.team.generalFolder),
  },

  // Channel conversations: the team's people (administrators see the team, not its chat); ChannelMessage.* for API clients.
  ...conversationRows(
    'messages',
    (f) => `/v1.0/teams/${f.team.id}/channels/${f.team.general}/messages`,
    (f) => f.team.message,
    (f) => f.freshMessage(),
  ),
  ...conversationRows(
    'messages/{id}/replies',
    (f) => `/v1.0/teams/${f.team.id}/channels/${f.team.general}/messages/${f.team.message}/replies`,
    (f) => f.team.reply,
    (f) => f.freshReply(),
  ),

  // Meetings: a team meeting the group's owner organizes; the team's people are invited.
  {
    endpoint: 'POST /me/onlineMeetings',
    people: membersCreate(201),
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: (f) => ({ method: 'POST', url: '/v1.0/me/onlineMeetings', payload: meetingBody(f) }),
  },
  {
    endpoint: 'POST /users/{id}/onlineMeetings',
    // A person schedules only as themselves; an API client for anyone in the organization.
    people: [403, 403, 403, 403, 403, 201, 403, 403, 403, 401],
    grants: ['OnlineMeetings.ReadWrite.All'],
    appAllowed: 201,
    request: (f) => ({ method: 'POST', url: `/v1.0/users/${f.ids.owner}/onlineMeetings`, payload: meetingBody(f) }),
  },
  {
    endpoint: 'GET /me/onlineMeetings',
    people: everyoneReads,
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: () => ({ method: 'GET', url: '/v1.0/me/onlineMeetings' }),
  },
  {
    endpoint: 'GET /me/onlineMeetings/{id}',
    people: inMeeting(200),
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: (f) => ({ method: 'GET', url: `/v1.0/me/onlineMeetings/${f.team.meeting}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.team.meeting),
  },
  {
    endpoint: 'GET /users/{organizer}/onlineMeetings/{id}',
    people: organizerPath(200),
    grants: ['OnlineMeetings.ReadWrite.All'],
    appAllowed: 200,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.owner}/onlineMeetings/${f.team.meeting}` }),
  },
  {
    endpoint: 'GET /me/onlineMeetings/{id}/attendanceReports',
    people: organizerOnly(200),
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: (f) => ({ method: 'GET', url: `/v1.0/me/onlineMeetings/${f.team.meeting}/attendanceReports` }),
  },
  {
    endpoint: 'GET /users/{organizer}/onlineMeetings/{id}/attendanceReports',
    people: organizerPath(200),
    grants: ['OnlineMeetings.ReadWrite.All'],
    appAllowed: 200,
    request: (f) => ({ method: 'GET', url: `/v1.0/users/${f.ids.owner}/onlineMeetings/${f.team.meeting}/attendanceReports` }),
  },
  {
    endpoint: 'GET /foyer/meetings/{id}/attendance.csv',
    people: organizerOnly(200),
    grants: ['OnlineMeetings.ReadWrite.All'],
    appAllowed: 200,
    request: (f) => ({ method: 'GET', url: `/v1.0/foyer/meetings/${f.team.meeting}/attendance.csv` }),
  },
  ...(['join', 'leave'] as const).map((action): Row => ({
    endpoint: `POST /foyer/meetings/{id}/${action}`,
    people: inMeeting(200),
    // People join and leave; an API client has no presence.
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: (f) => ({ method: 'POST', url: `/v1.0/foyer/meetings/${f.team.meeting}/${action}` }),
  })),
  {
    endpoint: 'GET /foyer/meetings/{id}/presence',
    people: inMeeting(200),
    grants: ['OnlineMeetings.ReadWrite.All'],
    appAllowed: 200,
    request: (f) => ({ method: 'GET', url: `/v1.0/foyer/meetings/${f.team.meeting}/presence` }),
  },
  {
    endpoint: 'GET /chats/{meeting}/messages',
    // Meeting chat is for the people in the meeting: no application permission reaches it.
    people: inMeeting(200),
    grants: [],
    request: (f) => ({ method: 'GET', url: `/v1.0/chats/${f.team.meeting}/messages` }),
    check: (res, f) => expect(idsIn(res)).toContain(f.team.chatMessage),
  },
  {
    endpoint: 'POST /chats/{meeting}/messages',
    people: inMeeting(201),
    grants: [],
    request: (f) => ({ method: 'POST', url: `/v1.0/chats/${f.team.meeting}/messages`, payload: { body: { content: `Chat ${next()}` } } }),
  },
  {
    endpoint: 'PATCH /chats/{meeting}/messages/{the member’s message}',
    people: chatSender(204),
    grants: [],
    request: (f) => ({
      method: 'PATCH',
      url: `/v1.0/chats/${f.team.meeting}/messages/${f.team.chatMessage}`,
      payload: { body: { content: `Edited ${next()}` } },
    }),
  },
  {
    endpoint: 'DELETE /chats/{meeting}/messages/{the member’s message}',
    people: chatSender(204),
    grants: [],
    request: async (f, succeeds) => ({
      method: 'DELETE',
      url: `/v1.0/chats/${f.team.meeting}/messages/${succeeds ? await f.freshChatMessage() : f.team.chatMessage}`,
    }),
  },

  // Files of the team's library: the team's people through its site, Global Administrators and Sites.ReadWrite.All.
  {
    endpoint: 'GET /groups/{id}/drive',
    people: siteReaders(200),
    grants: SITES,
    request: (f) => ({ method: 'GET', url: `/v1.0/groups/${f.team.id}/drive` }),
    check: (res, f) => expect(idOf(res)).toBe(f.team.drive),
  },
  ...[
    ['GET /drives/{id}', (f: Fixtures) => `/v1.0/drives/${f.team.drive}`],
    ['GET /drives/{id}/root', (f: Fixtures) => `/v1.0/drives/${f.team.drive}/root`],
    ['GET /drives/{id}/root/children', (f: Fixtures) => `/v1.0/drives/${f.team.drive}/root/children`],
    ['GET /drives/{id}/items/{file}', (f: Fixtures) => `/v1.0/drives/${f.team.drive}/items/${f.team.file}`],
    ['GET /drives/{id}/items/{folder}/children', (f: Fixtures) => `/v1.0/drives/${f.team.drive}/items/${f.team.generalFolder}/children`],
    ['GET /drives/{id}/items/{file}/content', (f: Fixtures) => `/v1.0/drives/${f.team.drive}/items/${f.team.file}/content`],
    ['GET /drives/{id}/items/{file}/versions', (f: Fixtures) => `/v1.0/drives/${f.team.drive}/items/${f.team.file}/versions`],
    [
      'GET /drives/{id}/items/{file}/versions/{id}/content',
      (f: Fixtures) => `/v1.0/drives/${f.team.drive}/items/${f.team.file}/versions/${f.team.version}/content`,
    ],
  ].map(([endpoint, url]): Row => ({
    endpoint: endpoint as string,
    people: siteReaders(200),
    grants: SITES,
    request: (f) => ({ method: 'GET', url: (url as (f: Fixtures) => string)(f) }),
  })),
  ...(['root', 'items/{folder}'] as const).map((parent): Row => ({
    endpoint: `POST /drives/{id}/${parent}/children`,
    people: siteWriters(201),
    grants: SITES,
    request: (f) => ({
      method: 'POST',
      url: `/v1.0/drives/${f.team.drive}/${parent === 'root' ? 'root' : `items/${f.team.generalFolder}`}/children`,
      payload: { name: `Folder ${next()}`, folder: {} },
    }),
  })),
  {
    endpoint: 'PUT /drives/{id}/root:/{name}:/content',
    people: siteWriters(201),
    grants: SITES,
    request: (f) => upload(`/v1.0/drives/${f.team.drive}/root:/upload-${next()}.txt:/content`),
  },
  {
    endpoint: 'PUT /drives/{id}/items/{channel folder}:/{name}:/content',
    // Guests upload only here: the files they attach to channel posts.
    people: siteReaders(201),
    grants: SITES,
    request: (f) => upload(`/v1.0/drives/${f.team.drive}/items/${f.team.generalFolder}:/attached-${next()}.txt:/content`),
  },
  {
    endpoint: 'PUT /drives/{id}/items/{file}/content',
    people: siteWriters(200),
    grants: SITES,
    request: (f) => upload(`/v1.0/drives/${f.team.drive}/items/${f.team.file}/content`),
  },
  {
    endpoint: 'DELETE /drives/{id}/items/{file}',
    people: siteWriters(204),
    grants: SITES,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/drives/${f.team.drive}/items/${succeeds ? await f.freshFile() : f.team.file}` }),
  },
  {
    endpoint: 'POST /drives/{id}/items/{file}/invite',
    people: siteWriters(200),
    grants: SITES,
    request: (f) => ({
      method: 'POST',
      url: `/v1.0/drives/${f.team.drive}/items/${f.team.file}/invite`,
      payload: { recipients: [{ email: 'miamember@contoso.test' }], roles: ['read'], requireSignIn: true },
    }),
  },
  {
    endpoint: 'POST /drives/{id}/items/{file}/createLink',
    people: siteWriters(201),
    grants: SITES,
    request: (f) => ({ method: 'POST', url: `/v1.0/drives/${f.team.drive}/items/${f.team.file}/createLink`, payload: { type: 'view', scope: 'organization' } }),
  },
  ...(['invite', 'createLink'] as const).map((action): Row => ({
    endpoint: `POST /drives/{id}/root/${action}`,
    // The root folder is shared as the site: whoever reaches the library is told so (400).
    people: siteReaders(400),
    grants: SITES,
    request: (f) => ({
      method: 'POST',
      url: `/v1.0/drives/${f.team.drive}/root/${action}`,
      payload: action === 'invite' ? { recipients: [{ email: 'miamember@contoso.test' }] } : { type: 'view' },
    }),
  })),

  // Sites: the owner's own site, the member a member of it, the guest a visitor.
  {
    endpoint: 'GET /sites',
    people: everyoneReads,
    grants: SITES,
    request: () => ({ method: 'GET', url: '/v1.0/sites' }),
  },
  {
    endpoint: 'POST /sites',
    people: membersCreate(201),
    grants: SITES,
    request: () => ({ method: 'POST', url: '/v1.0/sites', payload: { displayName: `Site ${next()}` } }),
  },
  ...[
    ['GET /sites/{id}', (f: Fixtures) => `/v1.0/sites/${f.site}`],
    ['GET /sites/{id}/drives', (f: Fixtures) => `/v1.0/sites/${f.site}/drives`],
    ['GET /sites/{id}/drive', (f: Fixtures) => `/v1.0/sites/${f.site}/drive`],
    ['GET /foyer/sites/{id}/members', (f: Fixtures) => `/v1.0/foyer/sites/${f.site}/members`],
    ['GET /groups/{id}/sites/root', (f: Fixtures) => `/v1.0/groups/${f.team.id}/sites/root`],
  ].map(([endpoint, url]): Row => ({
    endpoint: endpoint as string,
    people: siteReaders(200),
    grants: SITES,
    request: (f) => ({ method: 'GET', url: (url as (f: Fixtures) => string)(f) }),
  })),
  {
    endpoint: 'PATCH /sites/{id}',
    people: siteOwners(200),
    grants: SITES,
    request: (f) => ({ method: 'PATCH', url: `/v1.0/sites/${f.site}`, payload: { description: `Described ${next()}` } }),
  },
  {
    endpoint: 'POST /sites/{id}/lists',
    people: siteWriters(201),
    grants: SITES,
    request: (f) => ({
      method: 'POST',
      url: `/v1.0/sites/${f.site}/lists`,
      payload: { displayName: `Library ${next()}`, list: { template: 'documentLibrary' } },
    }),
  },
  {
    endpoint: 'POST /foyer/sites/{id}/members',
    people: siteOwners(201),
    grants: SITES,
    request: async (f, succeeds) => ({
      method: 'POST',
      url: `/v1.0/foyer/sites/${f.site}/members`,
      payload: { userId: succeeds ? await f.freshUser() : f.ids.outsider, role: 'member' },
    }),
  },
  {
    endpoint: 'DELETE /foyer/sites/{id}/members/{userId}',
    people: siteOwners(204),
    grants: SITES,
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/foyer/sites/${f.site}/members/${succeeds ? await f.freshSiteMember() : f.ids.member}` }),
  },
  {
    endpoint: 'POST /foyer/sites/{id}/members/{guest}/renew',
    people: siteOwners(200),
    grants: SITES,
    request: (f) => ({ method: 'POST', url: `/v1.0/foyer/sites/${f.site}/members/${f.ids.guest}/renew` }),
  },

  // Where people have access
  {
    endpoint: 'GET /me/foyer/access',
    people: everyoneReads,
    grants: applicationPermissions,
    appAllowed: 400,
    appDenied: 400,
    request: () => ({ method: 'GET', url: '/v1.0/me/foyer/access' }),
  },
  // API clients: Global Administrators signed in with a session, never an application.
  {
    endpoint: 'GET /foyer/clients',
    people: globalAdminOnly(200),
    grants: [],
    request: () => ({ method: 'GET', url: '/v1.0/foyer/clients' }),
    check: (res, f) => expect(idsIn(res)).toContain(f.client),
  },
  {
    endpoint: 'GET /foyer/clients/{id}',
    people: globalAdminOnly(200),
    grants: [],
    request: (f) => ({ method: 'GET', url: `/v1.0/foyer/clients/${f.client}` }),
    check: (res, f) => expect(idOf(res)).toBe(f.client),
  },
  {
    endpoint: 'POST /foyer/clients',
    people: globalAdminOnly(201),
    grants: [],
    request: () => ({ method: 'POST', url: '/v1.0/foyer/clients', payload: { displayName: `Minted ${next()}`, permissions: ['Directory.ReadWrite.All'] } }),
    check: (res) => expect(res.json().clientSecret).toEqual(expect.any(String)),
  },
  {
    endpoint: 'PATCH /foyer/clients/{id}',
    people: globalAdminOnly(204),
    grants: [],
    request: (f) => ({
      method: 'PATCH',
      url: `/v1.0/foyer/clients/${f.client}`,
      payload: { permissions: ['Directory.ReadWrite.All', 'Application.ReadWrite.All'] },
    }),
  },
  {
    endpoint: 'DELETE /foyer/clients/{id}',
    people: globalAdminOnly(204),
    grants: [],
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/foyer/clients/${succeeds ? await f.freshClient() : f.client}` }),
  },
  {
    endpoint: 'POST /foyer/clients/{id}/rotateSecret',
    people: globalAdminOnly(200),
    grants: [],
    request: async (f, succeeds) => ({ method: 'POST', url: `/v1.0/foyer/clients/${succeeds ? await f.freshClient() : f.client}/rotateSecret` }),
    check: (res) => expect(res.json().clientSecret).toEqual(expect.any(String)),
  },

  // Addresses that blocked future invitations.
  {
    endpoint: 'GET /foyer/blockedInvitees',
    people: userAdmins(200),
    grants: USERS_WRITE,
    request: () => ({ method: 'GET', url: '/v1.0/foyer/blockedInvitees' }),
    check: (res, f) => expect(idsIn(res)).toContain(f.blockedEmail),
  },
  {
    endpoint: 'DELETE /foyer/blockedInvitees/{email}',
    people: userAdmins(204),
    grants: [],
    request: async (f, succeeds) => ({ method: 'DELETE', url: `/v1.0/foyer/blockedInvitees/${succeeds ? await f.freshBlockedEmail() : f.blockedEmail}` }),
  },

  {
    endpoint: 'GET /foyer/users/{guest}/access',
    // The guest details panel: administrators who look after guests, not every member.
    people: [200, 200, 200, 200, 403, 403, 403, 403, 403, 401],
    grants: USERS_READ,
    request: (f) => ({ method: 'GET', url: `/v1.0/foyer/users/${f.ids.guest}/access` }),
    check: (res, f) => expect(idsIn(res)).toEqual(expect.arrayContaining([f.team.id, f.site])),
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

    // Bulk invitations
    f.freshBulk = async () => idOf(await must(call(t, admin, bulkUpload()), 202));
    f.bulkId = await f.freshBulk();

    // Teams, meetings, files and sites, made by the people who own them.
    const owner_ = sessions.get('member who owns the group')!;
    const member_ = sessions.get('member')!;
    const userRef = (id: string) => `https://graph.microsoft.com/v1.0/users('${id}')`;
    const teamId = idOf(
      await must(
        call(t, owner_, {
          method: 'POST',
          url: '/v1.0/teams',
          payload: { displayName: 'Matrix team', members: [{ 'user@odata.bind': userRef(member) }, { 'user@odata.bind': userRef(guest) }] },
        }),
        202,
      ),
    );
    const otherTeam = idOf(await must(call(t, owner_, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Matrix other team' } }), 202));
    const general = idsIn(await must(call(t, owner_, { method: 'GET', url: `/v1.0/teams/${teamId}/channels` }), 200))[0]!;
    const posts = `/v1.0/teams/${teamId}/channels/${general}/messages`;
    const postAs = async (caller: Caller, url: string) =>
      idOf(await must(call(t, caller, { method: 'POST', url, payload: { body: { content: `Fixture ${next()}` } } }), 201));
    const message = await postAs(member_, posts);
    const drive = idOf(await must(call(t, owner_, { method: 'GET', url: `/v1.0/groups/${teamId}/drive` }), 200));
    const generalFolder = idOf(await must(call(t, owner_, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${general}/filesFolder` }), 200));
    f.freshFile = async () => idOf(await must(call(t, admin, upload(`/v1.0/drives/${drive}/root:/fixture-${next()}.txt:/content`)), 201));
    const file = await f.freshFile();
    const version = idsIn(await must(call(t, owner_, { method: 'GET', url: `/v1.0/drives/${drive}/items/${file}/versions` }), 200))[0]!;
    const meeting = idOf(
      await must(
        call(t, owner_, {
          method: 'POST',
          url: '/v1.0/me/onlineMeetings',
          payload: { subject: 'Matrix meeting', startDateTime: '2026-11-02T10:00:00Z', endDateTime: '2026-11-02T11:00:00Z', teamId },
        }),
        201,
      ),
    );
    const chat = `/v1.0/chats/${meeting}/messages`;
    f.team = {
      id: teamId,
      other: otherTeam,
      general,
      message,
      reply: await postAs(member_, `${posts}/${message}/replies`),
      drive,
      generalFolder,
      file,
      version,
      meeting,
      chatMessage: await postAs(member_, chat),
    };
    f.freshMessage = () => postAs(member_, posts);
    f.freshReply = () => postAs(member_, `${posts}/${message}/replies`);
    f.freshChatMessage = () => postAs(member_, chat);
    f.freshTeamMember = async () => {
      const id = await f.freshUser();
      await must(call(t, fixtureClient, { method: 'POST', url: `/v1.0/teams/${teamId}/members`, payload: { 'user@odata.bind': userRef(id) } }), 201);
      return id;
    };
    f.freshUnifiedGroup = async () => {
      const n = next();
      const res = await must(
        call(t, fixtureClient, {
          method: 'POST',
          url: '/v1.0/groups',
          payload: {
            displayName: `Unified ${n}`,
            mailNickname: `unified${n}`,
            mailEnabled: true,
            securityEnabled: false,
            groupTypes: ['Unified'],
            'owners@odata.bind': bind([owner]),
          },
        }),
        201,
      );
      return idOf(res);
    };

    f.site = idOf(await must(call(t, owner_, { method: 'POST', url: '/v1.0/sites', payload: { displayName: 'Matrix site' } }), 201));
    const addToSite = async (userId: string, role: string) =>
      must(call(t, owner_, { method: 'POST', url: `/v1.0/foyer/sites/${f.site}/members`, payload: { userId, role } }), 201);
    await addToSite(member, 'member');
    await addToSite(guest, 'visitor');
    f.freshSiteMember = async () => {
      const id = await f.freshUser();
      await addToSite(id, 'member');
      return id;
    };
    // API clients and blocked addresses, written as the command line and the block link would.
    const clients = createClientsService({ db: t.database.db, clock: t.clock, secret: TEST_SECRET, commandLine: true });
    f.freshClient = async () => (await clients.createClient(t.tenant.id, `Fixture client ${next()}`, ['User.Read.All'])).clientId;
    f.client = await f.freshClient();
    f.freshBlockedEmail = async () => {
      const email = `blocked${next()}@fabrikam.test`;
      await t.database.db
        .insertInto('blocked_invitees')
        .values({ tenant_id: t.tenant.id, email_lower: email, created_at: t.clock.now().toISOString() })
        .execute();
      return email;
    };
    f.blockedEmail = await f.freshBlockedEmail();

    // Guest access to sites expires, so that site owners have something to renew.
    await must(call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/settings/collaboration', payload: { guestAccessExpirationDays: 365 } }), 200);
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
      expect(idsIn(await must(call(t, guest, { method: 'GET', url: '/v1.0/groups' }), 200)).sort()).toEqual([f.groups.team, f.team.id].sort());
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
      expect(idsIn(await must(call(t, guest, { method: 'GET', url: '/v1.0/me/memberOf' }), 200)).sort()).toEqual([f.groups.team, f.team.id].sort());
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

  describe('bulk invitations when allowInvitesFrom is none', () => {
    it('no one may upload or preview a file (403), not even a Global Administrator; past uploads stay readable', async () => {
      const policy = '/v1.0/policies/authorizationPolicy';
      const before = ((await must(call(t, admin, { method: 'GET', url: policy }), 200)).json() as { allowInvitesFrom: string }).allowInvitesFrom;
      const count = async () => idsIn(await must(call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' }), 200)).length;
      const uploads = await count();
      await must(call(t, admin, { method: 'PATCH', url: policy, payload: { allowInvitesFrom: 'none' } }), 204);
      try {
        const callers = [
          admin,
          sessions.get('User Administrator')!,
          sessions.get('Guest Inviter')!,
          ...(await Promise.all(INVITE.map((permission) => tokenFor([permission])))),
        ];
        for (const caller of callers) {
          for (const query of ['', '&validateOnly=true'])
            expectGraphError(await call(t, caller, bulkUpload(query)), 403, 'Authorization_RequestDenied', 'Guest invitations not allowed for your company.');
          expect((await call(t, caller, { method: 'GET', url: `/v1.0/foyer/bulkInvitations/${f.bulkId}` })).statusCode).toBe(200);
        }
        expect(await count()).toBe(uploads);
      } finally {
        await must(call(t, admin, { method: 'PATCH', url: policy, payload: { allowInvitesFrom: before } }), 204);
      }
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

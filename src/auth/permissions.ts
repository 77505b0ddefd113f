import { forbidden } from '../graph/errors.js';

/** Application permissions (Graph names) an API client can be granted. */
export const applicationPermissions = [
  'User.Read.All',
  'User.ReadWrite.All',
  'User.Invite.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'AuditLog.Read.All',
  'Application.Read.All',
  'Application.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'Team.Create',
  'TeamMember.ReadWrite.All',
  'Channel.Create',
  'ChannelMessage.Send',
  'ChannelMessage.Read.All',
  'OnlineMeetings.ReadWrite.All',
  'Sites.ReadWrite.All',
] as const;
export type ApplicationPermission = (typeof applicationPermissions)[number];

/** Directory role template ids, as in Microsoft Entra. */
export const directoryRoles = {
  globalAdministrator: {
    id: '62e90394-69f5-4237-9190-012177145e10',
    displayName: 'Global Administrator',
    description: 'Can manage all aspects of the directory.',
  },
  userAdministrator: {
    id: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    displayName: 'User Administrator',
    description: 'Can manage all aspects of users and groups, including invitations.',
  },
  guestInviter: {
    id: '95e79109-95c0-4d8e-aee3-d01accf2d47b',
    displayName: 'Guest Inviter',
    description: 'Can invite guest users independent of the member-users-can-invite-guests setting.',
  },
  helpdeskAdministrator: {
    id: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
    displayName: 'Helpdesk Administrator',
    description: 'Can reset redemption and sign-in state of non-administrators and read the directory.',
  },
  applicationAdministrator: {
    id: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
    displayName: 'Application Administrator',
    description: 'Can create and manage all aspects of app registrations and enterprise apps.',
  },
  cloudApplicationAdministrator: {
    id: '158c047a-c907-4556-b7ef-446551a6b5f7',
    displayName: 'Cloud Application Administrator',
    description: 'Can create and manage all aspects of app registrations and enterprise apps except App Proxy.',
  },
} as const;
export const directoryRoleList = Object.values(directoryRoles);
const GA = directoryRoles.globalAdministrator.id;
const UA = directoryRoles.userAdministrator.id;
const GI = directoryRoles.guestInviter.id;
const HA = directoryRoles.helpdeskAdministrator.id;
const AA = directoryRoles.applicationAdministrator.id;
const CAA = directoryRoles.cloudApplicationAdministrator.id;

/** Guest access levels (authorizationPolicy.guestUserRoleId). */
export const guestAccessLevels = {
  sameAsMembers: 'a0b1b346-4d3e-4e8b-98f8-753987be4970',
  limited: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
  restricted: '2af84b1e-32c8-42b7-82bc-daa82404023b',
} as const;

/** Who is calling: an API client (application permissions) or a signed-in person (roles). */
export type Actor =
  | { kind: 'app'; tenantId: string; clientId: string; displayName: string; permissions: ReadonlySet<string> }
  | {
      kind: 'user';
      tenantId: string;
      userId: string;
      displayName: string;
      userPrincipalName: string;
      userType: 'Member' | 'Guest';
      roles: ReadonlySet<string>;
      sessionTokenHash: string;
      /** guestUserRoleId of the tenant's policy, read with the session. */
      guestAccess: string;
    };

/** The operations endpoints check. Guest reads are scoped further by the services. */
export type Action =
  | 'users.read'
  | 'users.export'
  | 'users.write'
  /** Set another user's password (which targets: src/auth/act-on-whom.ts). */
  | 'users.resetPassword'
  /** Reset an external user's redemption (which targets: src/auth/act-on-whom.ts). */
  | 'users.resetRedemption'
  | 'users.invite'
  | 'groups.read'
  | 'groups.write'
  | 'roles.read'
  | 'roles.write'
  | 'audit.read'
  | 'policy.read'
  | 'policy.write'
  | 'apps.read'
  | 'apps.write'
  | 'appAssignments.read'
  | 'appAssignments.write'
  // Teams and sites: people are authorized by their membership; these grant it regardless of membership.
  | 'teams.create'
  | 'teams.read'
  | 'teams.manage'
  | 'channels.create'
  | 'channelMessages.send'
  | 'channelMessages.read'
  | 'meetings.write'
  | 'sites.read'
  | 'sites.write'
  // Addresses whose owners chose "block future invitations" (not directory objects).
  | 'blockedInvitees.read'
  | 'blockedInvitees.write'
  // API clients (client credentials): a person's decision, never an application's.
  | 'clients.read'
  | 'clients.write';

const appGrants: Record<Action, ApplicationPermission[]> = {
  'users.read': ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'users.export': ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'users.write': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'users.resetPassword': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'users.resetRedemption': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'users.invite': ['User.Invite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'groups.read': ['Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  'groups.write': ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'roles.read': ['Directory.Read.All', 'Directory.ReadWrite.All'],
  // Graph keeps role assignment out of Directory.ReadWrite.All; only Global Administrators assign roles.
  'roles.write': [],
  'audit.read': ['AuditLog.Read.All'],
  'policy.read': ['Directory.Read.All', 'Directory.ReadWrite.All'],
  'policy.write': ['Directory.ReadWrite.All'],
  'apps.read': ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  // As Graph: registering applications is not part of Directory.ReadWrite.All.
  'apps.write': ['Application.ReadWrite.All'],
  'appAssignments.read': [
    'Application.Read.All',
    'Application.ReadWrite.All',
    'AppRoleAssignment.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  'appAssignments.write': ['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All'],
  'teams.create': ['Team.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'teams.read': [
    'Team.Create',
    'TeamMember.ReadWrite.All',
    'Channel.Create',
    'ChannelMessage.Read.All',
    'Group.Read.All',
    'Group.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  'teams.manage': ['TeamMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'channels.create': ['Channel.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'channelMessages.send': ['ChannelMessage.Send'],
  'channelMessages.read': ['ChannelMessage.Read.All'],
  'meetings.write': ['OnlineMeetings.ReadWrite.All'],
  'sites.read': ['Sites.ReadWrite.All'],
  'sites.write': ['Sites.ReadWrite.All'],
  // Clients that invite at will may see which addresses refuse invitations; read-only permissions
  // do not cover addresses outside the directory. Lifting a person's own block is left to people.
  'blockedInvitees.read': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'blockedInvitees.write': [],
  // An application never mints or widens application credentials.
  'clients.read': [],
  'clients.write': [],
};

/** Roles that grant an action to a person; `member` means every member (not guests). */
const roleGrants: Record<Action, (string | 'member')[]> = {
  'users.read': ['member'],
  // A file of every guest's address leaves the directory: administrators only, not every member.
  'users.export': [GA, UA, HA],
  'users.write': [GA, UA],
  // Entra: Helpdesk Administrators reset passwords and redemption (of non-administrators), nothing else.
  'users.resetPassword': [GA, UA, HA],
  'users.resetRedemption': [GA, UA, HA],
  'users.invite': [GA, UA, GI],
  'groups.read': ['member'],
  'groups.write': [GA, UA],
  'roles.read': ['member'],
  'roles.write': [GA],
  'audit.read': [GA],
  'policy.read': ['member'],
  'policy.write': [GA],
  'apps.read': ['member'],
  'apps.write': [GA, AA, CAA],
  'appAssignments.read': ['member'],
  'appAssignments.write': [GA, AA, CAA],
  // As Microsoft 365's default: every member may create teams and sites.
  'teams.create': ['member'],
  'teams.read': [GA, UA],
  'teams.manage': [GA, UA],
  'channels.create': [GA, UA],
  // Posting and reading chat needs team membership; no role grants it across teams.
  'channelMessages.send': [],
  'channelMessages.read': [],
  'meetings.write': [],
  'sites.read': [GA],
  'sites.write': [GA],
  'blockedInvitees.read': [GA, UA],
  'blockedInvitees.write': [GA, UA],
  'clients.read': [GA],
  'clients.write': [GA],
};

/** Whether the actor may perform the action (guests get no grant here; see guest scoping). */
export function can(actor: Actor, action: Action): boolean {
  if (actor.kind === 'app') return appGrants[action].some((p) => actor.permissions.has(p));
  return roleGrants[action].some((r) => (r === 'member' ? actor.userType === 'Member' : actor.roles.has(r)));
}

/** Throws 403 Authorization_RequestDenied unless the actor may perform the action. */
export function requireAccess(actor: Actor, action: Action): void {
  if (!can(actor, action)) throw forbidden();
}

export const isGuest = (actor: Actor): actor is Extract<Actor, { kind: 'user' }> => actor.kind === 'user' && actor.userType === 'Guest';
export const hasRole = (actor: Actor, roleId: string) => actor.kind === 'user' && actor.roles.has(roleId);
export { GA as globalAdministratorRoleId, HA as helpdeskAdministratorRoleId };

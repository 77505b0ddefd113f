import type { Bool } from '../db/schema.js';

// The collaboration tables (migration 0006), added to the database type where they are used.

export interface CollaborationSettingsTable {
  tenant_id: string;
  /** JSON of OrganizationCollaborationSettings. */
  settings: string;
}
export interface TeamsTable {
  tenant_id: string;
  /** The Microsoft 365 group's id: a team is that group with team features. */
  id: string;
  /** JSON of TeamSettings. */
  settings: string;
  created_at: string;
}
export interface ChannelsTable {
  tenant_id: string;
  id: string;
  team_id: string;
  display_name: string;
  display_name_lower: string;
  description: string | null;
  is_general: Bool;
  created_at: string;
}
export interface ChatMessagesTable {
  tenant_id: string;
  id: string;
  /** A channel's or a meeting's id. */
  conversation_id: string;
  team_id: string | null;
  reply_to_id: string | null;
  from_user_id: string;
  from_display_name: string;
  body: string;
  /** JSON [{id, userId, mentionText}] */
  mentions: string;
  /** JSON [{id, name}] (drive item ids) */
  attachments: string;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}
export interface MeetingsTable {
  tenant_id: string;
  id: string;
  team_id: string | null;
  organizer_id: string;
  subject: string;
  agenda: string;
  start_at: string;
  end_at: string;
  created_at: string;
}
export interface MeetingParticipantsTable {
  tenant_id: string;
  meeting_id: string;
  user_id: string;
  /** organizer | attendee */
  role: string;
}
export interface MeetingAttendanceTable {
  tenant_id: string;
  id: string;
  meeting_id: string;
  user_id: string;
  display_name: string;
  email: string | null;
  role: string;
  joined_at: string;
  left_at: string | null;
}
export interface SitesTable {
  tenant_id: string;
  id: string;
  group_id: string | null;
  display_name: string;
  display_name_lower: string;
  description: string | null;
  sharing_capability: string;
  created_at: string;
}
export interface SiteMembersTable {
  tenant_id: string;
  site_id: string;
  user_id: string;
  /** owner | member | visitor */
  role: string;
  added_by: string | null;
  created_at: string;
  expires_at: string | null;
}
export interface DrivesTable {
  tenant_id: string;
  id: string;
  site_id: string;
  name: string;
  is_default: Bool;
  created_at: string;
}
export interface DriveItemsTable {
  tenant_id: string;
  id: string;
  drive_id: string;
  parent_id: string;
  name: string;
  name_lower: string;
  is_folder: Bool;
  size: number | string;
  content_type: string | null;
  current_version_id: string | null;
  created_by: string;
  created_by_name: string;
  created_at: string;
  modified_at: string;
}
export interface DriveItemVersionsTable {
  tenant_id: string;
  id: string;
  item_id: string;
  number: number;
  storage_key: string;
  size: number | string;
  content_type: string;
  sha256: string;
  created_by: string;
  created_by_name: string;
  created_at: string;
}
export interface DriveItemGrantsTable {
  tenant_id: string;
  id: string;
  item_id: string;
  user_id: string;
  /** read | write */
  role: string;
  created_at: string;
  expires_at: string | null;
}
export interface SharingLinksTable {
  tenant_id: string;
  id: string;
  item_id: string;
  token_hash: string;
  scope: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    collaboration_settings: CollaborationSettingsTable;
    teams: TeamsTable;
    channels: ChannelsTable;
    chat_messages: ChatMessagesTable;
    meetings: MeetingsTable;
    meeting_participants: MeetingParticipantsTable;
    meeting_attendance: MeetingAttendanceTable;
    sites: SitesTable;
    site_members: SiteMembersTable;
    drives: DrivesTable;
    drive_items: DriveItemsTable;
    drive_item_versions: DriveItemVersionsTable;
    drive_item_grants: DriveItemGrantsTable;
    sharing_links: SharingLinksTable;
  }
}

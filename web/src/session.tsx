import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, ApiError, onSessionExpired, setCsrfToken, type SessionInfo } from './api';

export const roleIds = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  guestInviter: '95e79109-95c0-4d8e-aee3-d01accf2d47b',
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
} as const;

export interface AdminCenterInfo {
  organization: { id: string; displayName: string; initialDomain: string };
  mailOutbox: boolean;
  inviteTtlDays: number;
}

type State = { status: 'loading' } | { status: 'signedOut'; expired: boolean } | { status: 'signedIn'; session: SessionInfo };

interface SessionApi {
  state: State;
  signIn(userName: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

// Asked for as soon as the app's code runs, in parallel with the first page's data.
const initialSession = api<SessionInfo>('/v1.0/foyer/session', { quiet401: true });
initialSession.catch(() => undefined);

/** Loads the session once, follows sign-in and sign-out, and notices when the API says it ended. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });
  const queryClient = useQueryClient();

  const adopt = useCallback((session: SessionInfo) => {
    setCsrfToken(session.csrfToken);
    setState({ status: 'signedIn', session });
  }, []);

  useEffect(() => {
    initialSession.then(adopt).catch(() => setState({ status: 'signedOut', expired: false }));
  }, [adopt]);

  useEffect(
    () =>
      onSessionExpired(() => {
        setCsrfToken(null);
        queryClient.clear();
        setState((s) => (s.status === 'signedIn' ? { status: 'signedOut', expired: true } : s));
      }),
    [queryClient],
  );

  const value = useMemo<SessionApi>(
    () => ({
      state,
      async signIn(userName, password) {
        const session = await api<SessionInfo>('/v1.0/foyer/session', { method: 'POST', body: { userName, password }, quiet401: true });
        queryClient.clear();
        adopt(session);
      },
      async signOut() {
        try {
          await api('/v1.0/foyer/session', { method: 'DELETE', quiet401: true });
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
        setCsrfToken(null);
        queryClient.clear();
        setState({ status: 'signedOut', expired: false });
      },
    }),
    [state, adopt, queryClient],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** What the signed-in person may do in the admin center (the API checks again on every call). */
export function usePermissions() {
  const { state } = useSession();
  const roles = new Set(state.status === 'signedIn' ? state.session.roles.map((r) => r.id) : []);
  const ga = roles.has(roleIds.globalAdministrator);
  const ua = roles.has(roleIds.userAdministrator);
  const ha = roles.has(roleIds.helpdeskAdministrator);
  const gi = roles.has(roleIds.guestInviter);
  const apps = roles.has(roleIds.applicationAdministrator) || roles.has(roleIds.cloudApplicationAdministrator);
  const member = state.status === 'signedIn' && state.session.user.userType === 'Member';
  return {
    /** Any administrator role: the admin center is theirs. */
    admin: member && (ga || ua || ha || gi || apps),
    globalAdmin: ga,
    manageUsers: ga || ua,
    invite: ga || ua || gi,
    readDirectory: member,
    exportGuests: ga || ua || ha,
    resetRedemption: ga || ua || ha,
    audit: ga,
    outbox: ga,
    assignRoles: ga,
    /** Register applications and assign people to them (Graph's Application and Cloud Application Administrators too). */
    manageApps: ga || apps,
    /** Every team and site (sites are listed whole only for Global Administrators). */
    teamsAndSites: ga,
  };
}

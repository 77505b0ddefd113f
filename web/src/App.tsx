import { Navigate, Route, Routes, useLocation } from 'react-router';
import { Spinner } from '@fluentui/react-components';
import { useTranslation } from 'react-i18next';
import { SessionProvider, usePermissions, useSession } from './session';
import { Shell } from './components/Shell';
import { SignInPage } from './pages/SignInPage';
import { NoAccessPage } from './pages/NoAccessPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { HomePage } from './pages/HomePage';
import { GuestUsersPage } from './pages/GuestUsersPage';
import { ActiveUsersPage } from './pages/ActiveUsersPage';
import { DeletedUsersPage } from './pages/DeletedUsersPage';
import { GroupsPage } from './pages/GroupsPage';
import { AuditLogPage } from './pages/AuditLogPage';
import { ExternalCollaborationPage } from './pages/ExternalCollaborationPage';
import { OutboxPage } from './pages/OutboxPage';
import { BulkInvitePage } from './pages/BulkInvitePage';
import { AppsPage } from './pages/AppsPage';
import { TeamsSitesPage } from './pages/TeamsSitesPage';
import { TeamsGuestAccessPage } from './pages/TeamsGuestAccessPage';

export function App() {
  return (
    <SessionProvider>
      <Routed />
    </SessionProvider>
  );
}

function Routed() {
  const { state } = useSession();
  const { t } = useTranslation();
  const location = useLocation();
  const can = usePermissions();

  if (state.status === 'loading')
    return (
      <main style={{ padding: 48 }}>
        <Spinner label={t('app.loading')} />
      </main>
    );

  if (state.status === 'signedOut') {
    if (location.pathname === '/login') return <SignInPage expired={state.expired} />;
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }

  // Guests and members without an administrator role never get the shell, and no admin data is asked for.
  if (!can.admin) return <NoAccessPage />;

  return (
    <Routes>
      <Route path="/login" element={<LoginRedirect />} />
      <Route element={<Shell />}>
        <Route index element={<HomePage />} />
        <Route path="users/active" element={<ActiveUsersPage />} />
        <Route path="users/guests" element={<GuestUsersPage />} />
        <Route path="users/bulk-invite" element={can.invite ? <BulkInvitePage /> : <NotFoundPage />} />
        <Route path="users/deleted" element={can.manageUsers ? <DeletedUsersPage /> : <NotFoundPage />} />
        <Route path="groups" element={<GroupsPage />} />
        <Route path="teams" element={can.teamsAndSites ? <TeamsSitesPage /> : <NotFoundPage />} />
        <Route path="apps" element={can.manageApps ? <AppsPage /> : <NotFoundPage />} />
        <Route path="audit" element={can.audit ? <AuditLogPage /> : <NotFoundPage />} />
        <Route path="settings/external-collaboration" element={<ExternalCollaborationPage />} />
        <Route path="settings/teams-guest-access" element={can.globalAdmin ? <TeamsGuestAccessPage /> : <NotFoundPage />} />
        <Route path="outbox" element={can.outbox ? <OutboxPage /> : <NotFoundPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

/** After signing in, back to where the person was going (only paths on this site). */
function LoginRedirect() {
  const next = new URLSearchParams(useLocation().search).get('next');
  const safe = next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
  return <Navigate to={safe} replace />;
}

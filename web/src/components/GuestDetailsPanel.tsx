import { useState, type ReactNode } from 'react';
import {
  Button,
  DrawerBody,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Spinner,
  Tab,
  TabList,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Toolbar,
  ToolbarButton,
  tokens,
} from '@fluentui/react-components';
import { Delete20Regular, Mail20Regular, ArrowReset20Regular, PersonProhibited20Regular, PersonAvailable20Regular } from '@fluentui/react-icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, directoryObjectRef, odataString, type Invitation, type Page, type User } from '../api';
import { useFormat, errorText } from '../format';
import { useNotify } from '../notify';
import { usePermissions } from '../session';
import { StateBadge } from './StateBadge';
import { ConfirmDialog } from './ConfirmDialog';
import { Panel } from './Panel';
import { DirectoryPicker, type Picked } from './DirectoryPicker';
import { GuestApps, GuestTeams } from './GuestAccess';

const useStyles = makeStyles({
  props: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '8px 24px', margin: '16px 0' },
  term: { color: tokens.colorNeutralForeground2 },
  value: { margin: 0, overflowWrap: 'anywhere' },
  section: { marginTop: '16px' },
  row: { display: 'flex', gap: '8px', alignItems: 'flex-end', marginTop: '12px' },
});

const detailsSelect =
  'id,displayName,mail,userPrincipalName,userType,accountEnabled,createdDateTime,creationType,externalUserState,externalUserStateChangeDateTime,signInActivity,foyerSource,foyerInvitedBy,companyName,jobTitle,preferredLanguage';

/** Everything about one guest, and what an administrator does with them. */
export function GuestDetailsPanel(props: { userId: string | null; onClose(): void; onChanged(): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const [tab, setTab] = useState('properties');
  const [confirm, setConfirm] = useState<'delete' | 'reset' | null>(null);
  const [busy, setBusy] = useState(false);
  const [addGroups, setAddGroups] = useState<Picked[]>([]);
  const id = props.userId;

  const user = useQuery({ queryKey: ['user', id], queryFn: () => api<User>(`/v1.0/users/${id}?$select=${detailsSelect}`), enabled: Boolean(id) });
  const groups = useQuery({
    queryKey: ['user', id, 'memberOf'],
    queryFn: () => api<Page<{ '@odata.type': string; id: string; displayName: string }>>(`/v1.0/users/${id}/memberOf`),
    enabled: Boolean(id),
  });
  const sponsors = useQuery({
    queryKey: ['user', id, 'sponsors'],
    queryFn: () => api<Page<{ '@odata.type': string; id: string; displayName: string; mail: string | null }>>(`/v1.0/users/${id}/sponsors`),
    enabled: Boolean(id),
  });
  const invitations = useQuery({
    queryKey: ['user', id, 'invitations'],
    queryFn: () => api<Page<Invitation>>(`/v1.0/foyer/invitations?$filter=${encodeURIComponent(`invitedUser/id eq ${odataString(id!)}`)}`),
    enabled: Boolean(id),
  });

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['user', id] });
    props.onChanged();
  };
  async function act(work: () => Promise<unknown>, done: string) {
    setBusy(true);
    try {
      await work();
      notify(done);
      refresh();
    } catch (e) {
      notify(errorText(e), 'error');
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  }

  const u = user.data;
  const pending = invitations.data?.value.find((i) => i.status === 'PendingAcceptance' || i.status === 'Expired');
  const memberGroups = (groups.data?.value ?? []).filter((g) => g['@odata.type'] === '#microsoft.graph.group');

  const resend = () =>
    act(async () => {
      if (pending) return api(`/v1.0/foyer/invitations/${pending.id}/resend`, { method: 'POST' });
      return api('/v1.0/foyer/invitations', {
        method: 'POST',
        body: { invitedUserEmailAddress: u!.mail, inviteRedirectUrl: `${window.location.origin}/my`, sendInvitationMessage: true },
      });
    }, t('details.resent'));
  const resetRedemption = () =>
    act(
      () =>
        api('/v1.0/invitations', {
          method: 'POST',
          body: {
            invitedUserEmailAddress: u!.mail,
            inviteRedirectUrl: `${window.location.origin}/my`,
            sendInvitationMessage: true,
            resetRedemption: true,
            invitedUser: { id: u!.id },
          },
        }),
      t('details.reset'),
    );
  const toggleBlock = () =>
    act(
      () => api(`/v1.0/users/${u!.id}`, { method: 'PATCH', body: { accountEnabled: !u!.accountEnabled } }),
      u!.accountEnabled ? t('details.blocked') : t('details.unblocked'),
    );
  const remove = () =>
    act(
      async () => {
        await api(`/v1.0/users/${u!.id}`, { method: 'DELETE' });
        void queryClient.invalidateQueries({ queryKey: ['deletedUsers'] });
        props.onClose();
      },
      t('guests.deleted', { count: 1 }),
    );
  const removeFromGroup = (g: { id: string; displayName: string }) =>
    act(() => api(`/v1.0/groups/${g.id}/members/${u!.id}/$ref`, { method: 'DELETE' }), t('details.removedFromGroup', { group: g.displayName }));
  const addToGroups = () =>
    act(
      async () => {
        for (const g of addGroups) await api(`/v1.0/groups/${g.id}/members/$ref`, { method: 'POST', body: directoryObjectRef(u!.id) });
        setAddGroups([]);
      },
      t('groups.added', { name: addGroups.map((g) => g.name).join(', ') }),
    );

  const prop = (term: string, value: ReactNode) => (
    <>
      <dt className={styles.term}>{term}</dt>
      <dd className={styles.value}>{value}</dd>
    </>
  );

  return (
    <Panel open={Boolean(id)} size="large" title={u?.displayName ?? t('details.title')} subtitle={u?.mail} onClose={props.onClose}>
      <DrawerBody>
        {user.isError && (
          <MessageBar intent="error">
            <MessageBarBody>{t('common.error', { message: errorText(user.error) })}</MessageBarBody>
          </MessageBar>
        )}
        {!u ? (
          user.isPending && <Spinner label={t('app.loading')} />
        ) : (
          <>
            <Toolbar aria-label={t('details.title')} style={{ flexWrap: 'wrap' }}>
              {can.invite && (
                <ToolbarButton icon={<Mail20Regular />} disabled={busy || u.externalUserState !== 'PendingAcceptance'} onClick={() => void resend()}>
                  {t('details.resend')}
                </ToolbarButton>
              )}
              {can.resetRedemption && (
                <ToolbarButton icon={<ArrowReset20Regular />} disabled={busy || u.externalUserState !== 'Accepted'} onClick={() => setConfirm('reset')}>
                  {t('details.resetRedemption')}
                </ToolbarButton>
              )}
              {can.manageUsers && (
                <ToolbarButton
                  icon={u.accountEnabled ? <PersonProhibited20Regular /> : <PersonAvailable20Regular />}
                  disabled={busy}
                  onClick={() => void toggleBlock()}
                >
                  {u.accountEnabled ? t('details.block') : t('details.unblock')}
                </ToolbarButton>
              )}
              {can.manageUsers && (
                <ToolbarButton icon={<Delete20Regular />} disabled={busy} onClick={() => setConfirm('delete')}>
                  {t('details.delete')}
                </ToolbarButton>
              )}
            </Toolbar>
            <TabList selectedValue={tab} onTabSelect={(_, d) => setTab(String(d.value))}>
              <Tab value="properties">{t('details.properties')}</Tab>
              <Tab value="groups">{t('details.groups')}</Tab>
              <Tab value="history">{t('details.history')}</Tab>
              <Tab value="apps">{t('details.apps')}</Tab>
              <Tab value="teams">{t('details.teams')}</Tab>
            </TabList>
            {tab === 'properties' && (
              <>
                <dl className={styles.props}>
                  {prop(t('details.mail'), u.mail)}
                  {prop(t('details.upn'), u.userPrincipalName)}
                  {prop(t('details.state'), <StateBadge state={u.externalUserState} />)}
                  {prop(t('details.stateChanged'), fmt.dateTime(u.externalUserStateChangeDateTime))}
                  {prop(t('details.source'), t(`source.${u.foyerSource ?? 'none'}` as 'source.none'))}
                  {prop(t('details.invitedBy'), u.foyerInvitedBy?.displayName ?? '—')}
                  {prop(t('details.created'), fmt.dateTime(u.createdDateTime))}
                  {prop(t('details.signIn'), u.accountEnabled ? t('details.signInAllowed') : t('details.signInBlocked'))}
                  {prop(t('details.lastSignIn'), fmt.dateTime(u.signInActivity?.lastSignInDateTime))}
                  {prop(t('details.lastSuccessfulSignIn'), fmt.dateTime(u.signInActivity?.lastSuccessfulSignInDateTime))}
                  {u.companyName && prop(t('details.company'), u.companyName)}
                  {u.jobTitle && prop(t('details.jobTitle'), u.jobTitle)}
                </dl>
                <h2 className={styles.section} style={{ fontSize: 16 }}>
                  {t('details.sponsors')}
                </h2>
                {sponsors.data?.value.length ? (
                  <ul>
                    {sponsors.data.value.map((s) => (
                      <li key={s.id}>
                        {s.displayName}
                        {s.mail ? ` (${s.mail})` : ''}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <Text>{t('details.noSponsors')}</Text>
                )}
              </>
            )}
            {tab === 'groups' && (
              <div className={styles.section}>
                {memberGroups.length === 0 ? (
                  <Text>{t('details.noGroups')}</Text>
                ) : (
                  <Table aria-label={t('details.groups')} size="small">
                    <TableBody>
                      {memberGroups.map((g) => (
                        <TableRow key={g.id}>
                          <TableCell>{g.displayName}</TableCell>
                          <TableCell style={{ width: 120 }}>
                            {can.manageUsers && (
                              <Button
                                size="small"
                                disabled={busy}
                                aria-label={t('details.removeFromGroup', { group: g.displayName })}
                                onClick={() => void removeFromGroup(g)}
                              >
                                {t('common.remove')}
                              </Button>
                            )}
                          </TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                )}
                {can.manageUsers && (
                  <div className={styles.row}>
                    <div style={{ flex: 1 }}>
                      <DirectoryPicker
                        kind="groups"
                        label={t('details.addToGroup')}
                        placeholder={t('details.addToGroup')}
                        selected={addGroups}
                        onChange={setAddGroups}
                        exclude={new Set(memberGroups.map((g) => g.id))}
                      />
                    </div>
                    <Button disabled={busy || addGroups.length === 0} onClick={() => void addToGroups()}>
                      {t('common.add')}
                    </Button>
                  </div>
                )}
              </div>
            )}
            {tab === 'apps' && <GuestApps userId={u.id} />}
            {tab === 'teams' && <GuestTeams userId={u.id} />}
            {tab === 'history' && (
              <div className={styles.section}>
                {invitations.data?.value.length ? (
                  <Table aria-label={t('details.history')} size="small">
                    <TableHeader>
                      <TableRow>
                        <TableHeaderCell>{t('details.created')}</TableHeaderCell>
                        <TableHeaderCell>{t('details.state')}</TableHeaderCell>
                        <TableHeaderCell>{t('details.invitedBy')}</TableHeaderCell>
                        <TableHeaderCell>{t('details.delivery')}</TableHeaderCell>
                      </TableRow>
                    </TableHeader>
                    <TableBody>
                      {invitations.data.value.map((i) => (
                        <TableRow key={i.id}>
                          <TableCell>{fmt.dateTime(i.createdDateTime)}</TableCell>
                          <TableCell>
                            <StateBadge state={i.status} />
                          </TableCell>
                          <TableCell>{i.invitedBy.displayName}</TableCell>
                          <TableCell>
                            {i.deliveryState} · {t('details.sentCount', { count: i.sendCount })}
                          </TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                ) : (
                  <Text>{t('details.noHistory')}</Text>
                )}
              </div>
            )}
          </>
        )}
      </DrawerBody>
      <ConfirmDialog
        open={confirm === 'delete'}
        title={t('details.deleteTitle', { name: u?.displayName ?? '' })}
        text={t('guests.deleteText')}
        confirm={t('common.delete')}
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm === 'reset'}
        title={t('details.resetTitle', { name: u?.displayName ?? '' })}
        text={t('details.resetText')}
        confirm={t('details.resetRedemption')}
        busy={busy}
        onConfirm={() => void resetRedemption()}
        onCancel={() => setConfirm(null)}
      />
    </Panel>
  );
}

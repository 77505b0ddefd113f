import { useState, type FormEvent } from 'react';
import {
  Badge,
  Button,
  DrawerBody,
  Field,
  Input,
  Link,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Spinner,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Page } from '../api';
import { PageHeader } from '../components/PageHeader';
import { Panel } from '../components/Panel';
import { ListState } from '../components/ListState';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';
import { collaborationSettingsKey, fetchCollaborationSettings } from './TeamsGuestAccessPage';

/** The guest side of a team's settings, as `GET /v1.0/teams/{id}` answers and `PATCH` takes them. */
interface TeamSettings {
  allowToAddGuests: boolean;
  guestSettings: { allowCreateUpdateChannels: boolean; allowDeleteChannels: boolean };
}

interface Site {
  id: string;
  displayName: string;
  description: string | null;
  createdDateTime: string;
  webUrl: string;
  sharingCapability: string;
  effectiveSharingCapability: string;
  groupId: string | null;
}

/** A member of a team (Graph's conversationMember) or of a site, in one shape. */
interface Member {
  id: string;
  displayName: string;
  email: string | null;
  role: 'owner' | 'member' | 'guest' | 'visitor';
  guest: boolean;
}

const useStyles = makeStyles({
  table: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusMedium, boxShadow: tokens.shadow2 },
  props: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '8px 24px', margin: '16px 0' },
  term: { color: tokens.colorNeutralForeground2 },
  value: { margin: 0 },
  add: { display: 'flex', gap: '8px', alignItems: 'flex-end', margin: '12px 0' },
  guestSettings: { display: 'flex', flexDirection: 'column', gap: '8px', alignItems: 'flex-start', margin: '16px 0' },
  heading: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: 0 },
});

/** Every team and site of the organization, with their members and the guests among them. */
export function TeamsSitesPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const [open, setOpen] = useState<Site | null>(null);
  const sites = useQuery({ queryKey: ['sites'], queryFn: () => api<Page<Site>>('/v1.0/sites') });
  const items = sites.data?.value ?? [];
  return (
    <>
      <PageHeader title={t('teams.title')} intro={t('teams.intro')} />
      <ListState pending={sites.isPending} error={sites.error} empty={items.length === 0} emptyText={t('teams.empty')} retry={() => void sites.refetch()}>
        <Table aria-label={t('teams.title')} className={styles.table}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{t('teams.col.name')}</TableHeaderCell>
              <TableHeaderCell>{t('teams.col.kind')}</TableHeaderCell>
              <TableHeaderCell>{t('teams.col.sharing')}</TableHeaderCell>
              <TableHeaderCell>{t('teams.col.created')}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((s) => (
              <TableRow key={s.id}>
                <TableCell>
                  <Link as="button" onClick={() => setOpen(s)}>
                    {s.displayName}
                  </Link>
                </TableCell>
                <TableCell>{s.groupId ? t('teams.team') : t('teams.site')}</TableCell>
                <TableCell>
                  {t(`teams.sharing.${s.effectiveSharingCapability}` as 'teams.sharing.Disabled', { defaultValue: s.effectiveSharingCapability })}
                </TableCell>
                <TableCell>{fmt.date(s.createdDateTime)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </ListState>
      {open && <DetailsPanel site={open} onClose={() => setOpen(null)} />}
    </>
  );
}

function DetailsPanel({ site, onClose }: { site: Site; onClose(): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const team = site.groupId;
  const key = ['sites', site.id, 'members'];
  const members = useQuery({
    queryKey: key,
    queryFn: async (): Promise<Member[]> => {
      if (team) {
        const page = await api<Page<{ id: string; displayName: string; email: string | null; roles: string[] }>>(`/v1.0/teams/${team}/members`);
        return page.value.map((m) => ({
          id: m.id,
          displayName: m.displayName,
          email: m.email,
          guest: m.roles.includes('guest'),
          role: m.roles.includes('owner') ? 'owner' : m.roles.includes('guest') ? 'guest' : 'member',
        }));
      }
      const page = await api<Page<{ id: string; displayName: string; email: string | null; userType: string; role: Member['role'] }>>(
        `/v1.0/foyer/sites/${site.id}/members`,
      );
      return page.value.map((m) => ({ id: m.id, displayName: m.displayName, email: m.email, guest: m.userType === 'Guest', role: m.role }));
    },
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: key });
    void queryClient.invalidateQueries({ queryKey: ['guests'] });
  };
  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { email: email.trim() };
      if (team) await api(`/v1.0/teams/${team}/members`, { method: 'POST', body });
      else await api(`/v1.0/foyer/sites/${site.id}/members`, { method: 'POST', body: { ...body, role: 'member' } });
      notify(t('teams.added', { email: body.email }));
      setEmail('');
      refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  async function remove(m: Member) {
    try {
      if (team) await api(`/v1.0/teams/${team}/members/${m.id}`, { method: 'DELETE' });
      else await api(`/v1.0/foyer/sites/${site.id}/members/${m.id}`, { method: 'DELETE' });
      notify(t('teams.removed', { name: m.displayName }));
    } catch (err) {
      notify(errorText(err), 'error');
    }
    refresh();
  }
  const list = members.data ?? [];
  const guests = list.filter((m) => m.guest).length;
  return (
    <Panel open size="large" title={site.displayName} subtitle={site.description ?? undefined} onClose={onClose}>
      <DrawerBody>
        <dl className={styles.props}>
          <dt className={styles.term}>{t('teams.col.kind')}</dt>
          <dd className={styles.value}>{team ? t('teams.team') : t('teams.site')}</dd>
          <dt className={styles.term}>{t('teams.col.sharing')}</dt>
          <dd className={styles.value}>
            {t(`teams.sharing.${site.effectiveSharingCapability}` as 'teams.sharing.Disabled', { defaultValue: site.effectiveSharingCapability })}
          </dd>
          <dt className={styles.term}>{t('teams.membersCount')}</dt>
          <dd className={styles.value}>{t('teams.membersText', { count: list.length, guests })}</dd>
          <dt className={styles.term}>{t('teams.open')}</dt>
          <dd className={styles.value}>
            <Link href={team ? `/teams/${team}` : site.webUrl} target="_blank">
              {team ? `/teams/${team}` : site.webUrl}
            </Link>
          </dd>
        </dl>
        {team && <TeamGuestSettings teamId={team} />}
        <form className={styles.add} onSubmit={(e) => void add(e)}>
          <Field label={t('teams.addByEmail')} hint={t('teams.addHint')} style={{ flex: 1 }}>
            <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} />
          </Field>
          <Button appearance="primary" type="submit" disabled={busy || !email.trim()}>
            {t('common.add')}
          </Button>
        </form>
        {error && (
          <MessageBar intent="error">
            <MessageBarBody>{error}</MessageBarBody>
          </MessageBar>
        )}
        <ListState
          pending={members.isPending}
          error={members.error}
          empty={list.length === 0}
          emptyText={t('teams.noMembers')}
          retry={() => void members.refetch()}
        >
          <Table aria-label={t('teams.members')} size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>{t('teams.col.name')}</TableHeaderCell>
                <TableHeaderCell>{t('teams.col.email')}</TableHeaderCell>
                <TableHeaderCell>{t('teams.col.role')}</TableHeaderCell>
                <TableHeaderCell>{t('apps.actions')}</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {list.map((m) => (
                <TableRow key={m.id}>
                  <TableCell>{m.displayName}</TableCell>
                  <TableCell>{m.email}</TableCell>
                  <TableCell>
                    <Badge appearance="tint" color={m.guest ? 'warning' : m.role === 'owner' ? 'brand' : 'informative'}>
                      {t(`teams.role.${m.role}`)}
                    </Badge>
                  </TableCell>
                  <TableCell>
                    <Button size="small" aria-label={t('teams.remove', { name: m.displayName })} onClick={() => void remove(m)}>
                      {t('common.remove')}
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </ListState>
        <Text size={200}>{t('teams.removeHint')}</Text>
      </DrawerBody>
    </Panel>
  );
}

/** A team's guest settings: whether guests may be added, and whether they may create and update channels. */
function TeamGuestSettings({ teamId }: { teamId: string }) {
  const { t } = useTranslation();
  const settings = useQuery({ queryKey: ['teams', teamId], queryFn: () => api<TeamSettings>(`/v1.0/teams/${teamId}`) });
  const org = useQuery({ queryKey: collaborationSettingsKey, queryFn: fetchCollaborationSettings });
  if (settings.isPending) return <Spinner size="tiny" label={t('app.loading')} />;
  if (!settings.data)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{errorText(settings.error)}</MessageBarBody>
      </MessageBar>
    );
  return <TeamGuestSettingsForm teamId={teamId} saved={settings.data} orgAllowsGuests={org.data?.allowGuestAccessInTeams ?? true} />;
}

function TeamGuestSettingsForm(props: { teamId: string; saved: TeamSettings; orgAllowsGuests: boolean }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [addGuests, setAddGuests] = useState(props.saved.allowToAddGuests);
  const [channels, setChannels] = useState(props.saved.guestSettings.allowCreateUpdateChannels);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(`/v1.0/teams/${props.teamId}`, {
        method: 'PATCH',
        body: { allowToAddGuests: addGuests, guestSettings: { allowCreateUpdateChannels: channels } },
      });
      void queryClient.invalidateQueries({ queryKey: ['teams', props.teamId] });
      notify(t('teams.settingsSaved'));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className={styles.guestSettings} onSubmit={(e) => void save(e)} aria-labelledby="team-guest-settings">
      <h3 className={styles.heading} id="team-guest-settings">
        {t('teams.guestSettings')}
      </h3>
      {!props.orgAllowsGuests && (
        <MessageBar intent="warning">
          <MessageBarBody>{t('teams.orgGuestsOff')}</MessageBarBody>
        </MessageBar>
      )}
      <Switch label={t('teams.allowToAddGuests')} checked={addGuests} onChange={(_, d) => setAddGuests(d.checked)} />
      <Switch label={t('teams.guestsCreateChannels')} checked={channels} onChange={(_, d) => setChannels(d.checked)} />
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      <Button type="submit" disabled={busy}>
        {t('common.save')}
      </Button>
    </form>
  );
}

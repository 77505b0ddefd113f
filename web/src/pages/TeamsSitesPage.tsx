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

import { useState } from 'react';
import { Checkbox, DrawerBody, Field, Input, Link, makeStyles, SearchBox, Toolbar, ToolbarButton } from '@fluentui/react-components';
import { PersonAdd20Regular } from '@fluentui/react-icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, directoryObjectRef, eventual, searchTerm, type Page, type User } from '../api';
import { PageHeader } from '../components/PageHeader';
import { FormPanel, Panel } from '../components/Panel';
import { VirtualTable, type Column, type Sort } from '../components/VirtualTable';
import { ListState } from '../components/ListState';
import { usePagedList } from '../components/usePagedList';
import { errorText, useAdminCenterInfo, useFormat } from '../format';
import { useNotify } from '../notify';
import { roleIds, usePermissions } from '../session';

const useStyles = makeStyles({
  bar: { display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: '12px', gap: '8px', flexWrap: 'wrap' },
  form: { display: 'flex', flexDirection: 'column', gap: '16px' },
});

const roles = [
  { id: roleIds.globalAdministrator, name: 'Global Administrator' },
  { id: roleIds.userAdministrator, name: 'User Administrator' },
  { id: roleIds.helpdeskAdministrator, name: 'Helpdesk Administrator' },
  { id: roleIds.guestInviter, name: 'Guest Inviter' },
];

export function ActiveUsersPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [sort, setSort] = useState<Sort>({ key: 'displayName', direction: 'asc' });
  const [adding, setAdding] = useState(false);
  const [open, setOpen] = useState<User | null>(null);
  const p = new URLSearchParams({
    $filter: "userType eq 'Member'",
    $select: 'id,displayName,userPrincipalName,jobTitle,createdDateTime,accountEnabled',
    $count: 'true',
    $top: '100',
  });
  if (text.trim()) p.set('$search', /[@.]/.test(text) ? searchTerm('userPrincipalName', text.trim()) : searchTerm('displayName', text.trim()));
  else p.set('$orderby', `${sort.key} ${sort.direction}`);
  const list = usePagedList<User>(['members'], `/v1.0/users?${p.toString()}`, eventual);

  const columns: Column<User>[] = [
    {
      key: 'displayName',
      label: t('members.columns.displayName'),
      sortKey: 'displayName',
      width: '28%',
      render: (u) => (
        <Link as="button" onClick={() => setOpen(u)}>
          {u.displayName}
        </Link>
      ),
    },
    { key: 'upn', label: t('members.columns.upn'), sortKey: 'userPrincipalName', width: '30%', render: (u) => u.userPrincipalName },
    { key: 'jobTitle', label: t('members.columns.jobTitle'), width: '16%', render: (u) => u.jobTitle ?? '' },
    {
      key: 'signIn',
      label: t('members.columns.signIn'),
      width: '12%',
      render: (u) => (u.accountEnabled ? t('details.signInAllowed') : t('details.signInBlocked')),
    },
    { key: 'created', label: t('members.columns.created'), sortKey: 'createdDateTime', width: '14%', render: (u) => fmt.date(u.createdDateTime) },
  ];

  return (
    <>
      <PageHeader title={t('members.title')} intro={t('members.intro')} />
      <div className={styles.bar}>
        <Toolbar aria-label={t('members.title')}>
          {can.manageUsers && (
            <ToolbarButton appearance="primary" icon={<PersonAdd20Regular />} onClick={() => setAdding(true)}>
              {t('members.add')}
            </ToolbarButton>
          )}
        </Toolbar>
        <SearchBox
          aria-label={t('members.search')}
          placeholder={t('members.search')}
          value={text}
          onChange={(_, d) => setText(d.value)}
          style={{ width: 300 }}
        />
      </div>
      <ListState
        pending={list.query.isPending}
        error={list.query.error}
        empty={list.items.length === 0}
        emptyText={t('members.empty')}
        retry={() => void list.query.refetch()}
      >
        <VirtualTable
          label={t('members.title')}
          columns={columns}
          items={list.items}
          getId={(u) => u.id}
          total={list.total}
          sort={text.trim() ? null : sort}
          onSort={setSort}
          hasMore={list.hasMore}
          loadingMore={list.loadingMore}
          loadMore={list.loadMore}
          height="calc(100vh - 250px)"
        />
      </ListState>
      <AddUserPanel open={adding} onClose={() => setAdding(false)} onAdded={() => void queryClient.invalidateQueries({ queryKey: ['members'] })} />
      <MemberPanel user={open} onClose={() => setOpen(null)} />
    </>
  );
}

function AddUserPanel(props: { open: boolean; onClose(): void; onAdded(): void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const info = useAdminCenterInfo();
  const domain = info.data?.organization.initialDomain ?? '';
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [name, setName] = useState('');
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const displayName = name || `${first} ${last}`.trim();

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const nick = userName.trim();
      await api('/v1.0/users', {
        method: 'POST',
        body: {
          accountEnabled: true,
          displayName,
          givenName: first || undefined,
          surname: last || undefined,
          mailNickname: nick,
          userPrincipalName: `${nick}@${domain}`,
          mail: `${nick}@${domain}`,
          passwordProfile: { password },
        },
      });
      notify(t('members.created', { name: displayName }));
      props.onAdded();
      props.onClose();
      setFirst('');
      setLast('');
      setName('');
      setUserName('');
      setPassword('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <FormPanel
      open={props.open}
      title={t('members.addTitle')}
      onClose={props.onClose}
      onSubmit={() => void submit()}
      submitLabel={t('common.add')}
      submitDisabled={busy || !displayName || !userName || !password}
      error={error}
    >
      <Field label={t('members.firstName')}>
        <Input value={first} onChange={(_, d) => setFirst(d.value)} />
      </Field>
      <Field label={t('members.lastName')}>
        <Input value={last} onChange={(_, d) => setLast(d.value)} />
      </Field>
      <Field label={t('members.displayName')} required>
        <Input value={displayName} onChange={(_, d) => setName(d.value)} />
      </Field>
      <Field label={t('members.userName')} required hint={`…@${domain}`}>
        <Input value={userName} onChange={(_, d) => setUserName(d.value.replace(/[^A-Za-z0-9._-]/g, ''))} />
      </Field>
      <Field label={t('members.password')} required hint={t('members.passwordHint')}>
        <Input type="password" autoComplete="new-password" value={password} onChange={(_, d) => setPassword(d.value)} />
      </Field>
    </FormPanel>
  );
}

/** A member's directory roles; only a Global Administrator changes them. */
function MemberPanel(props: { user: User | null; onClose(): void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const u = props.user;
  const memberOf = useQuery({
    queryKey: ['user', u?.id, 'memberOf'],
    queryFn: () => api<Page<{ '@odata.type': string; id: string; displayName: string }>>(`/v1.0/users/${u!.id}/memberOf`),
    enabled: Boolean(u),
  });
  const held = new Set((memberOf.data?.value ?? []).filter((o) => o['@odata.type'] === '#microsoft.graph.directoryRole').map((o) => o.id));
  async function toggle(role: (typeof roles)[number], on: boolean) {
    try {
      if (on) await api(`/v1.0/directoryRoles/${role.id}/members/$ref`, { method: 'POST', body: directoryObjectRef(u!.id) });
      else await api(`/v1.0/directoryRoles/${role.id}/members/${u!.id}/$ref`, { method: 'DELETE' });
      notify(on ? t('members.roleAdded', { role: role.name }) : t('members.roleRemoved', { role: role.name }));
    } catch (e) {
      notify(errorText(e), 'error');
    }
    void queryClient.invalidateQueries({ queryKey: ['user', u!.id, 'memberOf'] });
  }
  return (
    <Panel open={Boolean(u)} title={u?.displayName} subtitle={u?.userPrincipalName} onClose={props.onClose}>
      <DrawerBody>
        <fieldset style={{ border: 'none', padding: 0 }}>
          <legend style={{ fontWeight: 600, marginBottom: 8 }}>{t('members.assignRoles')}</legend>
          {roles.map((r) => (
            <div key={r.id}>
              <Checkbox
                label={r.name}
                checked={held.has(r.id)}
                disabled={!can.assignRoles || memberOf.isPending}
                onChange={(_, d) => void toggle(r, Boolean(d.checked))}
              />
            </div>
          ))}
        </fieldset>
      </DrawerBody>
    </Panel>
  );
}

import { useState } from 'react';
import {
  Button,
  DrawerBody,
  DrawerFooter,
  Field,
  Input,
  Link,
  makeStyles,
  Radio,
  RadioGroup,
  SearchBox,
  Tab,
  TabList,
  Table,
  TableBody,
  TableCell,
  TableRow,
  Text,
  Textarea,
  Toolbar,
  ToolbarButton,
} from '@fluentui/react-components';
import { Add20Regular, Delete20Regular } from '@fluentui/react-icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, directoryObjectRef, odataString, type Group, type Page } from '../api';
import { PageHeader } from '../components/PageHeader';
import { FormPanel, Panel } from '../components/Panel';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { ListState } from '../components/ListState';
import { usePagedList } from '../components/usePagedList';
import { DirectoryPicker, type Picked } from '../components/DirectoryPicker';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';
import { usePermissions } from '../session';

const useStyles = makeStyles({
  bar: { display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: '12px', gap: '8px', flexWrap: 'wrap' },
  form: { display: 'flex', flexDirection: 'column', gap: '16px' },
  row: { display: 'flex', gap: '8px', alignItems: 'flex-end', marginTop: '12px' },
});

export function GroupsPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<Group | null>(null);
  const p = new URLSearchParams({ $top: '100', $select: 'id,displayName,description,mail,mailEnabled,securityEnabled,groupTypes,createdDateTime' });
  if (text.trim()) p.set('$filter', `startsWith(displayName,${odataString(text.trim())})`);
  else p.set('$orderby', 'displayName');
  const list = usePagedList<Group>(['groups'], `/v1.0/groups?${p.toString()}`);
  const typeOf = (g: Group) => (g.groupTypes.includes('Unified') ? t('groups.unified') : t('groups.security'));

  const columns: Column<Group>[] = [
    {
      key: 'name',
      label: t('groups.columns.name'),
      width: '35%',
      render: (g) => (
        <Link as="button" onClick={() => setOpen(g)}>
          {g.displayName}
        </Link>
      ),
    },
    { key: 'email', label: t('groups.columns.email'), width: '30%', render: (g) => g.mail ?? '' },
    { key: 'type', label: t('groups.columns.type'), width: '15%', render: typeOf },
    { key: 'created', label: t('groups.columns.created'), width: '20%', render: (g) => fmt.date(g.createdDateTime) },
  ];

  return (
    <>
      <PageHeader title={t('groups.title')} intro={t('groups.intro')} />
      <div className={styles.bar}>
        <Toolbar aria-label={t('groups.title')}>
          {can.manageUsers && (
            <ToolbarButton appearance="primary" icon={<Add20Regular />} onClick={() => setCreating(true)}>
              {t('groups.add')}
            </ToolbarButton>
          )}
        </Toolbar>
        <SearchBox aria-label={t('groups.search')} placeholder={t('groups.search')} value={text} onChange={(_, d) => setText(d.value)} style={{ width: 300 }} />
      </div>
      <ListState
        pending={list.query.isPending}
        error={list.query.error}
        empty={list.items.length === 0}
        emptyText={t('groups.empty')}
        retry={() => void list.query.refetch()}
      >
        <VirtualTable
          label={t('groups.title')}
          columns={columns}
          items={list.items}
          getId={(g) => g.id}
          hasMore={list.hasMore}
          loadingMore={list.loadingMore}
          loadMore={list.loadMore}
          height="calc(100vh - 250px)"
        />
      </ListState>
      <CreateGroupPanel open={creating} onClose={() => setCreating(false)} onCreated={() => void queryClient.invalidateQueries({ queryKey: ['groups'] })} />
      <GroupPanel group={open} onClose={() => setOpen(null)} onDeleted={() => void queryClient.invalidateQueries({ queryKey: ['groups'] })} />
    </>
  );
}

function CreateGroupPanel(props: { open: boolean; onClose(): void; onCreated(): void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [name, setName] = useState('');
  const [alias, setAlias] = useState('');
  const [description, setDescription] = useState('');
  const [type, setType] = useState<'unified' | 'security'>('unified');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nick = alias || name.toLowerCase().replace(/[^a-z0-9]/g, '');

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await api('/v1.0/groups', {
        method: 'POST',
        body: {
          displayName: name,
          mailNickname: nick,
          description: description || undefined,
          groupTypes: type === 'unified' ? ['Unified'] : [],
          mailEnabled: type === 'unified',
          securityEnabled: type === 'security',
        },
      });
      notify(t('groups.created', { name }));
      props.onCreated();
      props.onClose();
      setName('');
      setAlias('');
      setDescription('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <FormPanel
      open={props.open}
      title={t('groups.add')}
      onClose={props.onClose}
      onSubmit={() => void submit()}
      submitLabel={t('common.add')}
      submitDisabled={busy || !name || !nick}
      error={error}
    >
      <Field label={t('groups.type')}>
        <RadioGroup value={type} onChange={(_, d) => setType(d.value as 'unified' | 'security')}>
          <Radio value="unified" label={t('groups.unified')} />
          <Radio value="security" label={t('groups.security')} />
        </RadioGroup>
      </Field>
      <Field label={t('groups.name')} required>
        <Input value={name} onChange={(_, d) => setName(d.value)} />
      </Field>
      <Field label={t('groups.mailNickname')} required>
        <Input value={nick} onChange={(_, d) => setAlias(d.value.replace(/[^A-Za-z0-9._-]/g, ''))} />
      </Field>
      <Field label={t('groups.description')}>
        <Textarea value={description} onChange={(_, d) => setDescription(d.value)} />
      </Field>
    </FormPanel>
  );
}

type Person = { id: string; displayName: string; mail: string | null; userType?: string };

/** A group's members and owners, with a people picker that searches the directory as you type. */
function GroupPanel(props: { group: Group | null; onClose(): void; onDeleted(): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const [tab, setTab] = useState<'members' | 'owners'>('members');
  const [picked, setPicked] = useState<Picked[]>([]);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const g = props.group;
  const people = useQuery({
    queryKey: ['group', g?.id, tab],
    queryFn: () => api<Page<Person>>(`/v1.0/groups/${g!.id}/${tab}?$select=id,displayName,mail,userType&$top=999`),
    enabled: Boolean(g),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['group', g?.id] });

  async function add() {
    setBusy(true);
    for (const p of picked) {
      try {
        await api(`/v1.0/groups/${g!.id}/${tab}/$ref`, { method: 'POST', body: directoryObjectRef(p.id) });
        notify(t('groups.added', { name: p.name }));
      } catch (e) {
        notify(`${p.name}: ${errorText(e)}`, 'error');
      }
    }
    setPicked([]);
    setBusy(false);
    refresh();
  }
  async function remove(p: Person) {
    try {
      await api(`/v1.0/groups/${g!.id}/${tab}/${p.id}/$ref`, { method: 'DELETE' });
      notify(t('groups.removed', { name: p.displayName }));
    } catch (e) {
      notify(errorText(e), 'error');
    }
    refresh();
  }
  async function deleteGroup() {
    try {
      await api(`/v1.0/groups/${g!.id}`, { method: 'DELETE' });
      props.onDeleted();
      props.onClose();
    } catch (e) {
      notify(errorText(e), 'error');
    }
    setConfirmDelete(false);
  }
  const list = people.data?.value ?? [];
  return (
    <Panel open={Boolean(g)} size="large" title={g?.displayName} subtitle={g?.description ?? g?.mail} onClose={props.onClose}>
      <DrawerBody>
        {can.manageUsers && (
          <Toolbar aria-label={g?.displayName}>
            <ToolbarButton icon={<Delete20Regular />} onClick={() => setConfirmDelete(true)}>
              {t('common.delete')}
            </ToolbarButton>
          </Toolbar>
        )}
        <TabList selectedValue={tab} onTabSelect={(_, d) => setTab(d.value as 'members' | 'owners')}>
          <Tab value="members">{t('groups.members')}</Tab>
          <Tab value="owners">{t('groups.owners')}</Tab>
        </TabList>
        {can.manageUsers && (
          <div className={styles.row}>
            <div style={{ flex: 1 }}>
              <Field label={tab === 'members' ? t('groups.addMembers') : t('groups.addOwners')}>
                <DirectoryPicker
                  kind="users"
                  label={t('groups.pickerLabel')}
                  placeholder={t('groups.pickerLabel')}
                  selected={picked}
                  onChange={setPicked}
                  exclude={new Set(list.map((p) => p.id))}
                />
              </Field>
            </div>
            <Button appearance="primary" disabled={busy || picked.length === 0} onClick={() => void add()}>
              {t('common.add')}
            </Button>
          </div>
        )}
        {list.length === 0 ? (
          <Text as="p">{tab === 'members' ? t('groups.noMembers') : t('groups.noOwners')}</Text>
        ) : (
          <Table aria-label={tab === 'members' ? t('groups.members') : t('groups.owners')} size="small" style={{ marginTop: 12 }}>
            <TableBody>
              {list.map((p) => (
                <TableRow key={p.id}>
                  <TableCell>
                    {p.displayName}
                    {p.userType === 'Guest' ? ` (${t('groups.guest')})` : ''}
                  </TableCell>
                  <TableCell>{p.mail}</TableCell>
                  <TableCell style={{ width: 120 }}>
                    {can.manageUsers && (
                      <Button size="small" aria-label={`${t('common.remove')} ${p.displayName}`} onClick={() => void remove(p)}>
                        {t('common.remove')}
                      </Button>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </DrawerBody>
      <DrawerFooter />
      <ConfirmDialog
        open={confirmDelete}
        title={t('groups.deleteTitle', { name: g?.displayName ?? '' })}
        text={t('groups.deleteText')}
        confirm={t('common.delete')}
        onConfirm={() => void deleteGroup()}
        onCancel={() => setConfirmDelete(false)}
      />
    </Panel>
  );
}

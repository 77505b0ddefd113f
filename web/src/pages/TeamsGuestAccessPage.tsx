import { useState, type FormEvent } from 'react';
import { Button, Field, Input, makeStyles, MessageBar, MessageBarBody, Radio, RadioGroup, Spinner, Switch, tokens } from '@fluentui/react-components';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api';
import { PageHeader } from '../components/PageHeader';
import { errorText } from '../format';
import { useNotify } from '../notify';

const sharingLevels = ['ExternalUserAndGuestSharing', 'ExternalUserSharingOnly', 'ExistingExternalUserSharingOnly', 'Disabled'] as const;

/** `GET /v1.0/foyer/settings/collaboration`, as the API answers it. */
export interface CollaborationSettings {
  allowGuestAccessInTeams: boolean;
  allowGuestsToCreateUpdateChannels: boolean;
  sharingCapability: (typeof sharingLevels)[number];
  anyoneLinkExpirationDays: number;
  guestAccessExpirationDays: number | null;
}
type Key = keyof CollaborationSettings;
const keys: Key[] = [
  'allowGuestAccessInTeams',
  'allowGuestsToCreateUpdateChannels',
  'sharingCapability',
  'anyoneLinkExpirationDays',
  'guestAccessExpirationDays',
];

export const collaborationSettingsKey = ['collaborationSettings'];
export const fetchCollaborationSettings = () => api<CollaborationSettings>('/v1.0/foyer/settings/collaboration');

/**
 * The setting an API error names, so its text shows next to that field. The API names the property in
 * every refusal ("body/anyoneLinkExpirationDays must be <= 730", "sharingCapability must be one of …").
 */
function fieldOf(e: unknown): Key | 'general' {
  const m = e instanceof ApiError ? e.message : '';
  return keys.find((k) => new RegExp(`(^|[^A-Za-z])${k}([^A-Za-z]|$)`).test(m)) ?? 'general';
}

const useStyles = makeStyles({
  section: {
    backgroundColor: tokens.colorNeutralBackground1,
    padding: '20px 24px',
    borderRadius: tokens.borderRadiusMedium,
    marginBottom: '16px',
    maxWidth: '860px',
    display: 'flex',
    flexDirection: 'column',
    gap: '12px',
  },
  heading: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: 0 },
  days: { maxWidth: '320px' },
});

/** Settings > Teams guest access: guests in teams, what they may do, and how far sites may be shared. */
export function TeamsGuestAccessPage() {
  const { t } = useTranslation();
  const settings = useQuery({ queryKey: collaborationSettingsKey, queryFn: fetchCollaborationSettings });
  if (settings.isPending) return <Spinner label={t('app.loading')} />;
  if (!settings.data)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{errorText(settings.error)}</MessageBarBody>
      </MessageBar>
    );
  return <SettingsForm saved={settings.data} />;
}

/** Days are kept as typed, so a value the API refuses comes back with its reason rather than being silently clamped here. */
const daysText = (n: number | null) => (n === null ? '' : String(n));

function SettingsForm({ saved: initial }: { saved: CollaborationSettings }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(initial);
  const [teamsAccess, setTeamsAccess] = useState(initial.allowGuestAccessInTeams);
  const [channels, setChannels] = useState(initial.allowGuestsToCreateUpdateChannels);
  const [sharing, setSharing] = useState(initial.sharingCapability);
  const [anyoneDays, setAnyoneDays] = useState(daysText(initial.anyoneLinkExpirationDays));
  const [expires, setExpires] = useState(initial.guestAccessExpirationDays !== null);
  const [guestDays, setGuestDays] = useState(daysText(initial.guestAccessExpirationDays));
  const [error, setError] = useState<{ field: Key | 'general'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!anyoneDays.trim()) return setError({ field: 'anyoneLinkExpirationDays', text: t('teamsSettings.daysRequired') });
    if (expires && !guestDays.trim()) return setError({ field: 'guestAccessExpirationDays', text: t('teamsSettings.daysRequired') });
    const next: CollaborationSettings = {
      allowGuestAccessInTeams: teamsAccess,
      allowGuestsToCreateUpdateChannels: channels,
      sharingCapability: sharing,
      anyoneLinkExpirationDays: Number(anyoneDays),
      guestAccessExpirationDays: expires ? Number(guestDays) : null,
    };
    // Only what changed is sent: the audit log then names just those settings, and an unchanged sharing level
    // never runs the lowering of sites.
    const patch = Object.fromEntries(keys.filter((k) => next[k] !== saved[k]).map((k) => [k, next[k]]));
    if (Object.keys(patch).length === 0) return notify(t('teamsSettings.noChanges'), 'info');
    setBusy(true);
    try {
      const answer = await api<CollaborationSettings>('/v1.0/foyer/settings/collaboration', { method: 'PATCH', body: patch });
      setSaved(answer);
      queryClient.setQueryData(collaborationSettingsKey, answer);
      // Lowering the sharing level lowers sites, which the Teams & sites page shows.
      void queryClient.invalidateQueries({ queryKey: ['sites'] });
      notify(t('common.saved'));
    } catch (err) {
      setError({ field: fieldOf(err), text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (f: Key) => (error?.field === f ? { validationMessage: error.text, validationState: 'error' as const } : {});
  return (
    <form onSubmit={(e) => void save(e)} noValidate>
      <PageHeader title={t('teamsSettings.title')} intro={t('teamsSettings.intro')} />
      {error?.field === 'general' && (
        <MessageBar intent="error" style={{ marginBottom: 16, maxWidth: 860 }}>
          <MessageBarBody>{error.text}</MessageBarBody>
        </MessageBar>
      )}
      <section className={styles.section} aria-labelledby="teams-heading">
        <h2 className={styles.heading} id="teams-heading">
          {t('teamsSettings.teamsSection')}
        </h2>
        <Field hint={t('teamsSettings.allowGuestAccessHint')} {...fieldError('allowGuestAccessInTeams')}>
          <Switch label={t('teamsSettings.allowGuestAccess')} checked={teamsAccess} onChange={(_, d) => setTeamsAccess(d.checked)} />
        </Field>
      </section>
      <section className={styles.section} aria-labelledby="guests-heading">
        <h2 className={styles.heading} id="guests-heading">
          {t('teamsSettings.guestPermissions')}
        </h2>
        <Field hint={t('teamsSettings.createChannelsHint')} {...fieldError('allowGuestsToCreateUpdateChannels')}>
          <Switch label={t('teamsSettings.createChannels')} checked={channels} onChange={(_, d) => setChannels(d.checked)} />
        </Field>
      </section>
      <section className={styles.section} aria-labelledby="sharing-heading">
        <h2 className={styles.heading} id="sharing-heading">
          {t('teamsSettings.sharingSection')}
        </h2>
        <Field label={t('teamsSettings.sharingLevel')} hint={t('teamsSettings.sharingHint')} {...fieldError('sharingCapability')}>
          <RadioGroup value={sharing} onChange={(_, d) => setSharing(d.value as CollaborationSettings['sharingCapability'])}>
            {sharingLevels.map((l) => (
              <Radio key={l} value={l} label={t(`teams.sharing.${l}`)} />
            ))}
          </RadioGroup>
        </Field>
        <Field
          className={styles.days}
          label={t('teamsSettings.anyoneDays')}
          hint={t('teamsSettings.daysHint')}
          required
          {...fieldError('anyoneLinkExpirationDays')}
        >
          <Input type="number" inputMode="numeric" value={anyoneDays} onChange={(_, d) => setAnyoneDays(d.value)} />
        </Field>
        <Field hint={t('teamsSettings.guestExpiryHint')}>
          <Switch label={t('teamsSettings.guestExpiry')} checked={expires} onChange={(_, d) => setExpires(d.checked)} />
        </Field>
        {expires && (
          <Field
            className={styles.days}
            label={t('teamsSettings.guestDays')}
            hint={t('teamsSettings.daysHint')}
            required
            {...fieldError('guestAccessExpirationDays')}
          >
            <Input type="number" inputMode="numeric" value={guestDays} onChange={(_, d) => setGuestDays(d.value)} />
          </Field>
        )}
      </section>
      <Button appearance="primary" type="submit" disabled={busy}>
        {t('common.save')}
      </Button>
    </form>
  );
}

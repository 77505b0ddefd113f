import { Button, Card, CardHeader, makeStyles, Text, tokens } from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, eventual } from '../api';
import { PageHeader } from '../components/PageHeader';
import { useAdminCenterInfo, useFormat } from '../format';

const useStyles = makeStyles({
  cards: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(240px, 1fr))', gap: '16px', marginTop: '8px' },
  number: { fontSize: tokens.fontSizeHero800, fontWeight: tokens.fontWeightSemibold, lineHeight: tokens.lineHeightHero800 },
  actions: { display: 'flex', gap: '8px', marginTop: '24px' },
});

function useCount(filter: string) {
  return useQuery({
    queryKey: ['count', filter],
    queryFn: () => api<string>(`/v1.0/users/$count?$filter=${encodeURIComponent(filter)}`, { headers: eventual }).then(Number),
  });
}

export function HomePage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const navigate = useNavigate();
  const info = useAdminCenterInfo();
  const guests = useCount("userType eq 'Guest'");
  const pending = useCount("userType eq 'Guest' and externalUserState eq 'PendingAcceptance'");
  const members = useCount("userType eq 'Member'");
  const card = (title: string, value: number | undefined, to: string) => (
    <Card onClick={() => navigate(to)} aria-label={title}>
      <CardHeader header={<Text weight="semibold">{title}</Text>} />
      <Text className={styles.number}>{value === undefined ? '…' : fmt.number(value)}</Text>
    </Card>
  );
  return (
    <>
      <PageHeader title={t('home.title')} intro={t('home.welcome', { org: info.data?.organization.displayName ?? '' })} />
      <div className={styles.cards}>
        {card(t('home.guests'), guests.data, '/users/guests')}
        {card(t('home.pending'), pending.data, '/users/guests')}
        {card(t('home.members'), members.data, '/users/active')}
      </div>
      <div className={styles.actions}>
        <Button appearance="primary" onClick={() => navigate('/users/guests')}>
          {t('home.viewGuests')}
        </Button>
      </div>
    </>
  );
}

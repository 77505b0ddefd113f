import { Button, Text } from '@fluentui/react-components';
import { LockClosed48Regular } from '@fluentui/react-icons';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';
import { CenteredCard, useCardStyles } from '../components/CenteredCard';

/** Shown instead of any admin page to guests and to members without an administrator role. */
export function NoAccessPage() {
  const styles = useCardStyles();
  const { t } = useTranslation();
  const { state, signOut } = useSession();
  const name = state.status === 'signedIn' ? state.session.user.displayName : '';
  useEffect(() => {
    document.title = `${t('noAccess.title')} - ${t('app.title')}`;
  }, [t]);
  return (
    <CenteredCard>
      <LockClosed48Regular aria-hidden />
      <h1 className={styles.title}>{t('noAccess.title')}</h1>
      <Text>{t('noAccess.text', { name })}</Text>
      <div className={styles.actions}>
        <Button appearance="primary" as="a" href="/my">
          {t('noAccess.myAccess')}
        </Button>
        <Button onClick={() => void signOut()}>{t('noAccess.signOut')}</Button>
      </div>
    </CenteredCard>
  );
}

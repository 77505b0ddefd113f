import { Button, makeStyles, MessageBar, MessageBarBody, Spinner, Text, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../format';

const useStyles = makeStyles({
  empty: { padding: '48px', textAlign: 'center', backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusMedium },
});

/** Loading, error and empty states of a list, or the list itself. */
export function ListState(props: { pending: boolean; error: unknown; empty: boolean; emptyText: string; retry(): void; children: ReactNode }) {
  const styles = useStyles();
  const { t } = useTranslation();
  if (props.error)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{t('common.error', { message: errorText(props.error) })}</MessageBarBody>
        <Button onClick={props.retry}>{t('common.retry')}</Button>
      </MessageBar>
    );
  if (props.pending) return <Spinner label={t('app.loading')} />;
  if (props.empty)
    return (
      <div className={styles.empty}>
        <Text>{props.emptyText}</Text>
      </div>
    );
  return <>{props.children}</>;
}

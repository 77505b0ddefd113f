import type { FormEvent, ReactNode } from 'react';
import {
  Button,
  DrawerBody,
  DrawerFooter,
  DrawerHeader,
  DrawerHeaderTitle,
  makeStyles,
  MessageBar,
  MessageBarBody,
  OverlayDrawer,
  Text,
} from '@fluentui/react-components';
import { Dismiss24Regular } from '@fluentui/react-icons';
import { useTranslation } from 'react-i18next';

const useStyles = makeStyles({ form: { display: 'flex', flexDirection: 'column', gap: '16px' } });

/** A panel sliding in from the right, like the Microsoft 365 admin center's details and add panels. */
export function Panel(props: { open: boolean; title: ReactNode; subtitle?: ReactNode; size?: 'medium' | 'large'; onClose(): void; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <OverlayDrawer open={props.open} position="end" size={props.size ?? 'medium'} onOpenChange={(_, d) => !d.open && props.onClose()}>
      <DrawerHeader>
        <DrawerHeaderTitle action={<Button appearance="subtle" aria-label={t('common.close')} icon={<Dismiss24Regular />} onClick={props.onClose} />}>
          {props.title}
        </DrawerHeaderTitle>
        {props.subtitle && <Text>{props.subtitle}</Text>}
      </DrawerHeader>
      {props.children}
    </OverlayDrawer>
  );
}

/** A panel holding one form: fields, an error from the API above them, submit and cancel below. */
export function FormPanel(props: {
  open: boolean;
  title: string;
  onClose(): void;
  onSubmit(): void;
  submitLabel: string;
  submitDisabled?: boolean;
  error?: string | null;
  children: ReactNode;
}) {
  const styles = useStyles();
  const { t } = useTranslation();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onSubmit();
  };
  return (
    <Panel open={props.open} title={props.title} onClose={props.onClose}>
      <form onSubmit={submit} style={{ display: 'contents' }}>
        <DrawerBody>
          <div className={styles.form}>
            {props.error && (
              <MessageBar intent="error">
                <MessageBarBody>{props.error}</MessageBarBody>
              </MessageBar>
            )}
            {props.children}
          </div>
        </DrawerBody>
        <DrawerFooter>
          <Button appearance="primary" type="submit" disabled={props.submitDisabled}>
            {props.submitLabel}
          </Button>
          <Button onClick={props.onClose}>{t('common.cancel')}</Button>
        </DrawerFooter>
      </form>
    </Panel>
  );
}

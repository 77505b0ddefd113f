import { useState, type FormEvent } from 'react';
import {
  Button,
  DrawerBody,
  DrawerFooter,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Switch,
  Textarea,
} from '@fluentui/react-components';
import { Copy20Regular } from '@fluentui/react-icons';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type Invitation } from '../api';
import { DirectoryPicker, type Picked } from './DirectoryPicker';
import { Panel } from './Panel';
import { errorText } from '../format';

const useStyles = makeStyles({ form: { display: 'flex', flexDirection: 'column', gap: '16px' }, row: { display: 'flex', gap: '8px', alignItems: 'flex-end' } });

type FieldName = 'email' | 'displayName' | 'message' | 'groups' | 'general';

/** Which field an API error is about, so the message shows next to it. */
function fieldOf(e: unknown): FieldName {
  const m = e instanceof ApiError ? e.message.toLowerCase() : '';
  if (/email|address|invitedUserEmailAddress|domain|receive invitations|member of this organization/i.test(m)) return 'email';
  if (/displayname/.test(m)) return 'displayName';
  if (/message|customizedmessagebody/.test(m)) return 'message';
  if (/group/.test(m)) return 'groups';
  return 'general';
}

/** Invite a guest: email, name, message, language, groups, whether to email; then the link to copy. */
export function InvitePanel(props: { open: boolean; onClose(): void; onInvited(): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [message, setMessage] = useState('');
  const [language, setLanguage] = useState('');
  const [groups, setGroups] = useState<Picked[]>([]);
  const [sendEmail, setSendEmail] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: FieldName; text: string } | null>(null);
  const [result, setResult] = useState<Invitation | null>(null);
  const [copied, setCopied] = useState(false);

  function reset() {
    setEmail('');
    setDisplayName('');
    setMessage('');
    setLanguage('');
    setGroups([]);
    setSendEmail(true);
    setError(null);
    setResult(null);
    setCopied(false);
  }
  const close = () => {
    reset();
    props.onClose();
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!email.trim()) return setError({ field: 'email', text: t('invite.emailRequired') });
    setBusy(true);
    setError(null);
    try {
      const messageInfo = message.trim() || language ? { customizedMessageBody: message.trim() || null, messageLanguage: language || null } : undefined;
      const inv = await api<Invitation>('/v1.0/foyer/invitations', {
        method: 'POST',
        body: {
          invitedUserEmailAddress: email.trim(),
          ...(displayName.trim() ? { invitedUserDisplayName: displayName.trim() } : {}),
          inviteRedirectUrl: `${window.location.origin}/my`,
          sendInvitationMessage: sendEmail,
          ...(messageInfo ? { invitedUserMessageInfo: messageInfo } : {}),
          groups: groups.map((g) => g.id),
        },
      });
      setResult(inv);
      props.onInvited();
    } catch (err) {
      setError({ field: fieldOf(err), text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (f: FieldName) => (error?.field === f ? { validationMessage: error.text, validationState: 'error' as const } : {});

  return (
    <Panel open={props.open} title={t('invite.title')} onClose={close}>
      {result ? (
        <>
          <DrawerBody>
            <div className={styles.form}>
              <MessageBar intent="success">
                <MessageBarBody>
                  <MessageBarTitle>{t('invite.done')}</MessageBarTitle>
                  {t('invite.doneText', { email: result.invitedUserEmailAddress })}
                </MessageBarBody>
              </MessageBar>
              <Field label={t('invite.redeemLink')} hint={t('invite.redeemHint')}>
                <div className={styles.row}>
                  <Input readOnly value={result.inviteRedeemUrl ?? ''} style={{ flex: 1 }} />
                  <Button
                    icon={<Copy20Regular />}
                    onClick={() => {
                      void navigator.clipboard?.writeText(result.inviteRedeemUrl ?? '').then(() => setCopied(true));
                    }}
                  >
                    {copied ? t('common.copied') : t('common.copy')}
                  </Button>
                </div>
              </Field>
            </div>
          </DrawerBody>
          <DrawerFooter>
            <Button appearance="primary" onClick={reset}>
              {t('invite.another')}
            </Button>
            <Button onClick={close}>{t('common.close')}</Button>
          </DrawerFooter>
        </>
      ) : (
        <form onSubmit={submit} style={{ display: 'contents' }}>
          <DrawerBody>
            <div className={styles.form}>
              {error?.field === 'general' && (
                <MessageBar intent="error">
                  <MessageBarBody>{error.text}</MessageBarBody>
                </MessageBar>
              )}
              <Field label={t('invite.email')} required {...fieldError('email')}>
                <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} autoFocus />
              </Field>
              <Field label={t('invite.displayName')} hint={t('invite.displayNameHint')} {...fieldError('displayName')}>
                <Input value={displayName} onChange={(_, d) => setDisplayName(d.value)} />
              </Field>
              <Field label={t('invite.message')} {...fieldError('message')}>
                <Textarea value={message} onChange={(_, d) => setMessage(d.value)} resize="vertical" rows={4} maxLength={10000} />
              </Field>
              <Field label={t('invite.language')}>
                <Select value={language} onChange={(_, d) => setLanguage(d.value)}>
                  <option value="">{t('invite.languageDefault')}</option>
                  <option value="en-US" lang="en">
                    English
                  </option>
                  <option value="nl-NL" lang="nl">
                    Nederlands
                  </option>
                </Select>
              </Field>
              <Field label={t('invite.groups')} {...fieldError('groups')}>
                <DirectoryPicker kind="groups" label={t('invite.groups')} placeholder={t('invite.groupsPlaceholder')} selected={groups} onChange={setGroups} />
              </Field>
              <Switch label={t('invite.sendEmail')} checked={sendEmail} onChange={(_, d) => setSendEmail(d.checked)} />
            </div>
          </DrawerBody>
          <DrawerFooter>
            <Button appearance="primary" type="submit" disabled={busy}>
              {busy ? t('invite.sending') : t('invite.submit')}
            </Button>
            <Button onClick={close}>{t('common.cancel')}</Button>
          </DrawerFooter>
        </form>
      )}
    </Panel>
  );
}

import { Badge } from '@fluentui/react-components';
import { useTranslation } from 'react-i18next';

export function StateBadge({ state }: { state: string | null | undefined }) {
  const { t } = useTranslation();
  if (!state) return <>{t('state.none')}</>;
  const color = state === 'Accepted' ? 'success' : state === 'PendingAcceptance' ? 'warning' : 'informative';
  return (
    <Badge appearance="tint" color={color} shape="rounded">
      {t(`state.${state}` as 'state.Accepted', { defaultValue: state })}
    </Badge>
  );
}

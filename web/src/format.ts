import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { api } from './api';
import type { AdminCenterInfo } from './session';

/** Dates and times in the interface language. */
export function useFormat() {
  const { i18n, t } = useTranslation();
  const locale = i18n.resolvedLanguage === 'nl' ? 'nl-NL' : 'en-US';
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  return {
    locale,
    dateTime: (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : t('common.never')),
    date: (iso: string | null | undefined) => (iso ? date.format(new Date(iso)) : '—'),
    number: (n: number) => n.toLocaleString(locale),
  };
}

/** The organization and the features this server offers (the outbox page only when mail stays in the outbox). */
export function useAdminCenterInfo() {
  return useQuery({ queryKey: ['adminCenter'], queryFn: () => api<AdminCenterInfo>('/v1.0/foyer/adminCenter'), staleTime: 5 * 60_000 });
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

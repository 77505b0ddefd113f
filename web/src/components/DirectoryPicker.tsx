import { useEffect, useState } from 'react';
import { Avatar, Tag, TagPicker, TagPickerControl, TagPickerGroup, TagPickerInput, TagPickerList, TagPickerOption } from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, eventual, odataString, peopleSearch, type Page } from '../api';

export interface Picked {
  id: string;
  name: string;
  secondary?: string | null;
}

/**
 * A people or group picker that asks the directory as you type (users through `$search`,
 * groups through `startsWith`), never loading the whole directory.
 */
export function DirectoryPicker(props: {
  kind: 'users' | 'groups';
  label: string;
  placeholder?: string;
  selected: Picked[];
  onChange(next: Picked[]): void;
  exclude?: ReadonlySet<string>;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [term, setTerm] = useState('');
  useEffect(() => {
    const id = setTimeout(() => setTerm(text.trim()), 150);
    return () => clearTimeout(id);
  }, [text]);

  const results = useQuery({
    queryKey: ['picker', props.kind, term],
    queryFn: async ({ signal }) => {
      if (props.kind === 'users') {
        const url = term
          ? `/v1.0/users?$search=${encodeURIComponent(peopleSearch(term))}&$select=id,displayName,mail,userType&$top=10`
          : `/v1.0/users?$select=id,displayName,mail,userType&$top=10&$orderby=displayName`;
        const page = await api<Page<{ id: string; displayName: string; mail: string | null; userType: string }>>(url, { headers: eventual, signal });
        return page.value.map((u) => ({
          id: u.id,
          name: u.displayName,
          secondary: u.userType === 'Guest' ? `${u.mail ?? ''} · ${t('groups.guest')}` : u.mail,
        }));
      }
      const filter = term ? `&$filter=${encodeURIComponent(`startsWith(displayName,${odataString(term)})`)}` : '';
      const page = await api<Page<{ id: string; displayName: string; mail: string | null }>>(`/v1.0/groups?$select=id,displayName,mail&$top=10${filter}`, {
        signal,
      });
      return page.value.map((g) => ({ id: g.id, name: g.displayName, secondary: g.mail }));
    },
    staleTime: 30_000,
  });

  const chosen = new Set(props.selected.map((p) => p.id));
  const options = (results.data ?? []).filter((o) => !chosen.has(o.id) && !props.exclude?.has(o.id));
  return (
    <TagPicker
      selectedOptions={props.selected.map((p) => p.id)}
      onOptionSelect={(_, d) => {
        if (!d.value) return; // the "no results" line
        if (chosen.has(d.value)) props.onChange(props.selected.filter((p) => p.id !== d.value));
        else {
          const o = results.data?.find((r) => r.id === d.value);
          if (o) props.onChange([...props.selected, o]);
        }
        setText('');
      }}
    >
      <TagPickerControl>
        <TagPickerGroup aria-label={props.label}>
          {props.selected.map((p) => (
            <Tag key={p.id} shape="rounded" value={p.id} media={<Avatar aria-hidden name={p.name} color="colorful" />}>
              {p.name}
            </Tag>
          ))}
        </TagPickerGroup>
        <TagPickerInput aria-label={props.label} placeholder={props.placeholder} value={text} onChange={(e) => setText(e.target.value)} />
      </TagPickerControl>
      <TagPickerList>
        {options.length === 0 ? (
          <TagPickerOption value="" text="">
            {results.isFetching ? t('app.loading') : t('groups.pickerNoResults')}
          </TagPickerOption>
        ) : (
          options.map((o) => (
            <TagPickerOption
              key={o.id}
              value={o.id}
              secondaryContent={o.secondary ?? undefined}
              media={<Avatar aria-hidden name={o.name} color="colorful" />}
              text={o.name}
            >
              {o.name}
            </TagPickerOption>
          ))
        )}
      </TagPickerList>
    </TagPicker>
  );
}

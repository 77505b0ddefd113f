import { useEffect, useRef, type ReactNode } from 'react';
import {
  makeStyles,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  TableSelectionCell,
  tokens,
  useArrowNavigationGroup,
} from '@fluentui/react-components';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useTranslation } from 'react-i18next';

export interface Column<T> {
  key: string;
  label: string;
  render(item: T): ReactNode;
  /** The server's `$orderby` name when the column can be sorted. */
  sortKey?: string;
  width?: string;
}

export interface Sort {
  key: string;
  direction: 'asc' | 'desc';
}

const ROW_HEIGHT = 44;

const useStyles = makeStyles({
  scroller: {
    overflow: 'auto',
    backgroundColor: tokens.colorNeutralBackground1,
    borderRadius: tokens.borderRadiusMedium,
    boxShadow: tokens.shadow2,
  },
  table: { tableLayout: 'fixed', minWidth: '900px' },
  header: { position: 'sticky', top: 0, zIndex: 1, backgroundColor: tokens.colorNeutralBackground1 },
  row: { height: `${ROW_HEIGHT}px` },
  cell: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  footer: { padding: '8px 16px' },
});

/**
 * A Fluent UI table over a server-paged list: only the rows in view are in the DOM (at a
 * million guests the list holds as many rows as were scrolled through), the next page is asked
 * for as the end comes near, and sorting is the server's.
 */
export function VirtualTable<T>(props: {
  label: string;
  columns: Column<T>[];
  items: T[];
  getId(item: T): string;
  /** Rows the server says match (aria-rowcount), when known. */
  total?: number;
  selection?: { selected: ReadonlySet<string>; onChange(next: Set<string>): void; nameOf(item: T): string };
  sort?: Sort | null;
  onSort?(sort: Sort): void;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore(): void;
  height: string;
}) {
  const styles = useStyles();
  const { t } = useTranslation();
  const scroller = useRef<HTMLDivElement>(null);
  const navigation = useArrowNavigationGroup({ axis: 'grid' });
  const { items, hasMore, loadingMore, loadMore } = props;
  const virtualizer = useVirtualizer({ count: items.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const virtualRows = virtualizer.getVirtualItems();
  const last = virtualRows[virtualRows.length - 1]?.index ?? -1;

  useEffect(() => {
    if (hasMore && !loadingMore && last >= items.length - 30) loadMore();
  }, [last, items.length, hasMore, loadingMore, loadMore]);

  const top = virtualRows[0]?.start ?? 0;
  const bottom = virtualizer.getTotalSize() - (virtualRows[virtualRows.length - 1]?.end ?? 0);
  const colSpan = props.columns.length + (props.selection ? 1 : 0);
  const sel = props.selection;
  const allSelected = sel && items.length > 0 && items.every((i) => sel.selected.has(props.getId(i)));
  const someSelected = sel && items.some((i) => sel.selected.has(props.getId(i)));

  return (
    <div ref={scroller} className={styles.scroller} style={{ height: props.height }} data-testid="virtual-scroller">
      <Table className={styles.table} aria-label={props.label} aria-rowcount={(props.total ?? items.length) + 1} {...navigation} role="grid">
        <TableHeader className={styles.header}>
          <TableRow aria-rowindex={1}>
            {sel && (
              <TableSelectionCell
                checked={allSelected ? true : someSelected ? 'mixed' : false}
                onClick={() => sel.onChange(allSelected ? new Set() : new Set(items.map(props.getId)))}
                checkboxIndicator={{ 'aria-label': t('common.selectAll') }}
                style={{ width: 44 }}
              />
            )}
            {props.columns.map((c) => {
              const sorted = props.sort?.key === c.sortKey ? props.sort?.direction : undefined;
              return (
                <TableHeaderCell
                  key={c.key}
                  style={c.width ? { width: c.width } : undefined}
                  sortable={Boolean(c.sortKey && props.onSort)}
                  sortDirection={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                  onClick={c.sortKey && props.onSort ? () => props.onSort!({ key: c.sortKey!, direction: sorted === 'asc' ? 'desc' : 'asc' }) : undefined}
                >
                  {c.label}
                </TableHeaderCell>
              );
            })}
          </TableRow>
        </TableHeader>
        <TableBody>
          {top > 0 && (
            <tr aria-hidden="true" style={{ height: top }}>
              <td colSpan={colSpan} />
            </tr>
          )}
          {virtualRows.map((v) => {
            const item = items[v.index]!;
            const id = props.getId(item);
            const checked = sel?.selected.has(id) ?? false;
            return (
              <TableRow key={id} className={styles.row} aria-rowindex={v.index + 2} aria-selected={sel ? checked : undefined} data-id={id}>
                {sel && (
                  <TableSelectionCell
                    checked={checked}
                    checkboxIndicator={{ 'aria-label': t('common.selectRow', { name: sel.nameOf(item) }) }}
                    onClick={() => {
                      const next = new Set(sel.selected);
                      if (checked) next.delete(id);
                      else next.add(id);
                      sel.onChange(next);
                    }}
                  />
                )}
                {props.columns.map((c) => (
                  <TableCell key={c.key} className={styles.cell}>
                    {c.render(item)}
                  </TableCell>
                ))}
              </TableRow>
            );
          })}
          {bottom > 0 && (
            <tr aria-hidden="true" style={{ height: bottom }}>
              <td colSpan={colSpan} />
            </tr>
          )}
        </TableBody>
      </Table>
      {loadingMore && (
        <div className={styles.footer}>
          <Spinner size="tiny" label={t('common.loadingMore')} />
        </div>
      )}
    </div>
  );
}

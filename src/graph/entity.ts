/**
 * How a Graph entity's properties map to columns and which query options each supports.
 * One definition per entity drives `$select`, `$filter`, `$orderby` and `$search` validation
 * and SQL, so a property is either fully supported or refused with a clear 400.
 */
export type ValueType = 'string' | 'guid' | 'boolean' | 'datetime' | 'enum';

export interface FilterableProperty {
  /** Column compared (the case-folded copy for strings). */
  column: string;
  type: ValueType;
  nullable?: boolean;
  /** For enums: canonical values, matched case-insensitively. */
  values?: readonly string[];
  /** Supported beyond eq/ne/in (and ge/le/gt/lt for datetimes): */
  startsWith?: boolean;
  endsWith?: boolean;
  /** Strings compare case-insensitively (the value is lower-cased, the column is lower-cased). */
  caseInsensitive?: boolean;
}

/** A collection property filterable with `any()`, stored in a side table. */
export interface LambdaProperty {
  table: string;
  /** Column of the side table holding the owner's id. */
  ownerColumn: string;
  /** Predicate paths inside the lambda: '' for the element itself, or a sub-property name. */
  members: Record<string, FilterableProperty>;
}

export interface EntityDefinition {
  /** Graph type name, e.g. 'user'. */
  type: string;
  /** Entity set name used in @odata.context, e.g. 'users'. */
  entitySet: string;
  /** Every property the entity has (Graph names). */
  properties: readonly string[];
  /** Returned when `$select` is absent. */
  defaultProperties: readonly string[];
  filterable: Record<string, FilterableProperty>;
  lambdas?: Record<string, LambdaProperty>;
  /** `$orderby` name → non-null column. */
  sortable: Record<string, string>;
  /** Default (and tiebreak) order column: unique, non-null. */
  keyColumn: string;
  /** `$search` property names accepted. */
  searchable: readonly string[];
  /**
   * Directory objects need Graph's advanced query mode (`ConsistencyLevel: eventual` and
   * `$count=true`) for ne/not/endsWith and filter+orderby; other collections, like audit logs, do not.
   */
  advancedQueryGating: boolean;
}

/** Case-insensitive lookup of a Graph property name; Graph accepts any casing. */
export function findProperty<T>(map: Record<string, T>, name: string): [string, T] | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(map)) if (k.toLowerCase() === lower) return [k, v];
  return undefined;
}
